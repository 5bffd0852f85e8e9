// The custom layer: its output, and its loss with gradients in reverse or forward mode.
#include "bindings.hpp"

#include <vector>

#include "eigen_autodiff/forward_mode.hpp"
#include "eigen_autodiff/reverse_mode.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
using CArray = py::array_t<T, py::array::c_style>;

template <typename T>
ConstMatrixView<T> view(const CArray<T>& a) {
  if (a.ndim() != 2) {
    throw py::value_error("expected a 2-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  return ConstMatrixView<T>(a.data(), a.shape(0), a.shape(1));
}

template <typename T>
CArray<T> layer_forward_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation) {
  const ActivationSpec spec = resolve_activation(activation);
  const ConstMatrixView<T> xv = view(x);
  const ConstMatrixView<T> wv = view(w);
  check_layer_shapes(xv.dimension(0), xv.dimension(1), wv.dimension(0), wv.dimension(1));
  CArray<T> y({xv.dimension(0), wv.dimension(1)});
  const auto context = compute_context();
  {
    py::gil_scoped_release release;
    with_activation(spec, [&](const auto& activation) {
      layer_forward(context->device, xv, wv, activation,
                    MatrixView<T>(y.mutable_data(), xv.dimension(0), wv.dimension(1)));
    });
  }
  return y;
}

template <typename T>
py::tuple value_and_grad_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                            bool wrt_x, bool wrt_w, const std::string& mode) {
  const ActivationSpec spec = resolve_activation(activation);
  const ConstMatrixView<T> xv = view(x);
  const ConstMatrixView<T> wv = view(w);
  const Index batch = xv.dimension(0);
  const Index inputs = xv.dimension(1);
  const Index outputs = wv.dimension(1);
  check_layer_shapes(batch, inputs, wv.dimension(0), outputs);
  if (mode != "reverse" && mode != "forward") {
    throw py::value_error("unknown mode '" + mode + "'; expected 'reverse' or 'forward'");
  }
  if (mode == "forward") {
    check_memory_budget(forward_mode_workspace_bytes<T>(batch, inputs, outputs, wrt_x, wrt_w),
                        "forward mode on X " + detail::shape_string(batch, inputs) + " and W " +
                            detail::shape_string(inputs, outputs));
  }
  CArray<T> dx = wrt_x ? CArray<T>({batch, inputs}) : CArray<T>();
  CArray<T> dw = wrt_w ? CArray<T>({inputs, outputs}) : CArray<T>();
  T* dx_data = wrt_x ? dx.mutable_data() : nullptr;
  T* dw_data = wrt_w ? dw.mutable_data() : nullptr;
  double loss = 0;
  const auto context = compute_context();
  {
    py::gil_scoped_release release;
    with_activation(spec, [&](const auto& activation) {
      if (mode == "reverse") {
        std::vector<T> workspace(static_cast<std::size_t>(batch * outputs));
        loss = value_and_grad_reverse(context->device, xv, wv, activation, dx_data, dw_data,
                                      workspace.data());
      } else {
        loss = value_and_grad_forward(xv, wv, activation, dx_data, dw_data);
      }
    });
  }
  py::object dx_out = wrt_x ? py::object(dx) : py::object(py::none());
  py::object dw_out = wrt_w ? py::object(dw) : py::object(py::none());
  return py::make_tuple(loss, dx_out, dw_out);
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_forward", &layer_forward_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("activation"), "Y = activation(x @ w).");
  m.def("layer_value_and_grad", &value_and_grad_py<T>, py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("activation"), py::arg("wrt_x"), py::arg("wrt_w"),
        py::arg("mode"), "(L, dL/dx or None, dL/dw or None) for L = sum(activation(x @ w)**2).");
}

}  // namespace

void register_layer(py::module_& m) {
  define_for<float>(m);
  define_for<double>(m);
}

}  // namespace eigen_autodiff::bindings
