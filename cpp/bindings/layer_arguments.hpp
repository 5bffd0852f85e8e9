// What every binding of the layer does before and after computing: view the NumPy arrays as
// row-major tensors, check shapes and the memory budget, allocate the outputs, and package the
// result. The computations themselves are the C++ core's.
#pragma once

#include "bindings.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eigen_autodiff/core/dense_layer.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

// Whether `array` is as the core takes it, without a conversion: a NumPy ndarray (not a subclass)
// of T in native byte order, C-contiguous. The facade's passes_through
// (python/eigen_autodiff/_arrays.py) applies the same rule before the other bindings; a test
// checks that the two agree.
template <typename T>
bool is_core_array(py::handle array) {
  if (Py_TYPE(array.ptr()) != py::detail::npy_api::get().PyArray_Type_) {
    return false;
  }
  // NumPy's descriptor of T, a singleton that lives as long as NumPy: compared by address, as the
  // facade compares dtypes with `is`.
  static PyObject* const descriptor = py::dtype::of<T>().release().ptr();
  const auto* proxy = py::detail::array_proxy(array.ptr());
  return proxy->descr == descriptor &&
         (proxy->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
}

// The extents of an ndarray.
inline bool has_shape(py::handle array, std::initializer_list<py::ssize_t> shape) {
  const auto* proxy = py::detail::array_proxy(array.ptr());
  return static_cast<std::size_t>(proxy->nd) == shape.size() &&
         std::equal(shape.begin(), shape.end(), proxy->dimensions);
}

// None, or a core array of T (is_core_array) of exactly `shape`.
template <typename T>
bool is_none_or_core_array(py::handle array, std::initializer_list<py::ssize_t> shape) {
  return array.is_none() || (is_core_array<T>(array) && has_shape(array, shape));
}

// Calls f(T{}) for the dtype T of x and w when the layer takes them as they are: core arrays of
// one dtype, 2-D, x's columns w's rows. Otherwise returns None, and the facade converts them and
// calls again: for a small layer, the checks are a large part of the whole call's cost, so the
// common case is decided here in a few reads instead of in Python and again in pybind11's casters.
template <typename F>
py::object with_core_arrays(py::handle x, py::handle w, F&& f) {
  const auto compatible = [&] {
    const auto* xp = py::detail::array_proxy(x.ptr());
    const auto* wp = py::detail::array_proxy(w.ptr());
    return xp->nd == 2 && wp->nd == 2 && xp->dimensions[1] == wp->dimensions[0];
  };
  if (is_core_array<float>(x) && is_core_array<float>(w) && compatible()) {
    return f(float{});
  }
  if (is_core_array<double>(x) && is_core_array<double>(w) && compatible()) {
    return f(double{});
  }
  return py::none();
}

// A core array of T (see with_core_arrays) as pybind11's array type, unchecked.
template <typename T>
CArray<T> borrow_array(py::handle array) {
  return py::reinterpret_borrow<CArray<T>>(array);
}

// Y's shape (batch, outputs) for 2-D x and w.
inline std::pair<py::ssize_t, py::ssize_t> output_shape(py::handle x, py::handle w) {
  return {py::detail::array_proxy(x.ptr())->dimensions[0],
          py::detail::array_proxy(w.ptr())->dimensions[1]};
}

// An optional array argument (None, or a core array of T with `size` entries): its data, or null
// for None. The facade has already converted it; anything else is a caller's bug.
template <typename T>
const T* optional_data(py::handle array, Index size, const char* name) {
  if (array.is_none()) {
    return nullptr;
  }
  if (!is_core_array<T>(array)) {
    throw py::type_error(std::string(name) +
                         " must be None or a C-contiguous array of the dtype "
                         "of x and w");
  }
  const auto* proxy = py::detail::array_proxy(array.ptr());
  const Index entries = std::accumulate(proxy->dimensions, proxy->dimensions + proxy->nd, Index{1},
                                        std::multiplies<>());
  if (entries != size) {
    throw py::value_error(std::string(name) + " has " + std::to_string(entries) +
                          " entries; expected " + std::to_string(size));
  }
  return reinterpret_cast<const T*>(proxy->data);
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
  LayerArguments(const CArray<T>& x_array, const CArray<T>& w_array, py::handle bias_array,
                 py::handle activation_object)
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
