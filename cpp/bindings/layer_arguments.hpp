// What every binding of the layer does before and after computing: view the NumPy arrays as
// row-major tensors, check shapes and the memory budget, allocate the outputs, and package the
// result. The computations themselves are the C++ core's.
#pragma once

#include "bindings.hpp"

#include <optional>
#include <string>
#include <vector>

#include "eigen_autodiff/core/dense_layer.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

// An optional array argument (None, or a C-contiguous array of T with `size` entries): its data,
// or null for None. The facade has already converted it; anything else is a caller's bug.
template <typename T>
const T* optional_data(const py::object& array, Index size, const char* name) {
  if (array.is_none()) {
    return nullptr;
  }
  if (!py::isinstance<CArray<T>>(array)) {
    throw py::type_error(std::string(name) +
                         " must be None or a C-contiguous array of the dtype "
                         "of x and w");
  }
  const auto values = array.cast<CArray<T>>();
  if (values.size() != size) {
    throw py::value_error(std::string(name) + " has " + std::to_string(values.size()) +
                          " entries; expected " + std::to_string(size));
  }
  return values.data();
}

// The parameter named by wrt: "w", "x" or "b".
inline ForwardWrt parameter_from_name(const std::string& wrt) {
  if (wrt == "w") {
    return ForwardWrt::w;
  }
  if (wrt == "x") {
    return ForwardWrt::x;
  }
  if (wrt == "b") {
    return ForwardWrt::b;
  }
  throw py::value_error("unknown wrt '" + wrt + "'; expected 'w', 'x' or 'b'");
}

template <typename T>
struct LayerArguments {
  LayerArguments(const CArray<T>& x_array, const CArray<T>& w_array, const py::object& bias_array,
                 const py::object& activation_object)
      : activation(resolve_activation(activation_object)),
        layer(matrix_view(x_array), matrix_view(w_array),
              optional_data<T>(bias_array, w_array.ndim() == 2 ? w_array.shape(1) : 0, "bias")),
        batch(layer.batch()),
        inputs(layer.inputs()),
        outputs(layer.outputs()) {}

  ActivationSpec activation;
  DenseLayer<T> layer;
  Index batch;
  Index inputs;
  Index outputs;

  double multiply_adds() const {
    return static_cast<double>(batch) * static_cast<double>(inputs) * static_cast<double>(outputs);
  }
  std::string shapes() const {
    return "X " + detail::shape_string(batch, inputs) + " and W " +
           detail::shape_string(inputs, outputs);
  }

 private:
  static ConstMatrixView<T> matrix_view(const CArray<T>& a) {
    if (a.ndim() != 2) {
      throw py::value_error("expected a 2-D array, got " + std::to_string(a.ndim()) +
                            " dimensions");
    }
    return ConstMatrixView<T>(a.data(), a.shape(0), a.shape(1));
  }
};

// The gradients w.r.t. X, W and b that are wanted, allocated; None for the others.
template <typename T>
struct GradientArrays {
  GradientArrays(const LayerArguments<T>& args, Wanted wanted) {
    // Only the wanted arrays are made: even an empty NumPy array costs a fifth of a microsecond,
    // a tenth of a small layer's whole call.
    if (wanted.x) {
      dx = aligned_array<T>({args.batch, args.inputs});
      pointers.dx = dx->mutable_data();
    }
    if (wanted.w) {
      dw = aligned_array<T>({args.inputs, args.outputs});
      pointers.dw = dw->mutable_data();
    }
    if (wanted.b) {
      db = aligned_array<T>({args.outputs});
      pointers.db = db->mutable_data();
    }
  }

  std::optional<CArray<T>> dx;
  std::optional<CArray<T>> dw;
  std::optional<CArray<T>> db;
  LayerGradients<T> pointers;

  // (dL/dX or None, dL/dW or None, dL/db or None)
  py::tuple as_tuple() const {
    const auto or_none = [](const std::optional<CArray<T>>& a) {
      return a ? py::object(*a) : py::object(py::none());
    };
    return py::make_tuple(or_none(dx), or_none(dw), or_none(db));
  }
};

}  // namespace eigen_autodiff::bindings
