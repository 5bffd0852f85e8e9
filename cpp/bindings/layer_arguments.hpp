// What every binding of the layer does before and after computing: view the NumPy arrays as
// row-major tensors, check shapes and the memory budget, allocate the gradients, and package the
// result. The computations themselves are the C++ core's.
#pragma once

#include "bindings.hpp"

#include <string>

#include "eigen_autodiff/layer.hpp"

namespace eigen_autodiff::bindings {

template <typename T>
struct LayerArguments {
  LayerArguments(const CArray<T>& x_array, const CArray<T>& w_array,
                 const py::object& activation_object)
      : activation(resolve_activation(activation_object)),
        x(matrix_view(x_array)),
        w(matrix_view(w_array)),
        batch(x.dimension(0)),
        inputs(x.dimension(1)),
        outputs(w.dimension(1)) {
    check_layer_shapes(batch, inputs, w.dimension(0), outputs);
  }

  ActivationSpec activation;
  ConstMatrixView<T> x;
  ConstMatrixView<T> w;
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

// (L, dL/dX or None, dL/dW or None): compute(dx, dw) gets null for the gradients not wanted and
// runs without the GIL.
template <typename T, typename Compute>
py::tuple loss_and_gradients(const LayerArguments<T>& args, bool wrt_x, bool wrt_w,
                             Compute&& compute) {
  CArray<T> dx = wrt_x ? aligned_array<T>({args.batch, args.inputs}) : CArray<T>();
  CArray<T> dw = wrt_w ? aligned_array<T>({args.inputs, args.outputs}) : CArray<T>();
  T* dx_data = wrt_x ? dx.mutable_data() : nullptr;
  T* dw_data = wrt_w ? dw.mutable_data() : nullptr;
  double loss = 0;
  {
    const Computing computing;
    loss = compute(dx_data, dw_data);
  }
  return py::make_tuple(loss, wrt_x ? py::object(dx) : py::object(py::none()),
                        wrt_w ? py::object(dw) : py::object(py::none()));
}

}  // namespace eigen_autodiff::bindings
