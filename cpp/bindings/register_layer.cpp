// The custom layer's output, and its loss with gradients by each of the three modes.
#include "layer_arguments.hpp"

#include <string>

#include "eigen_autodiff/fast/memory_estimates.hpp"
#include "eigen_autodiff/fast/reverse.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> layer_values_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation) {
  const LayerArguments<T> args(x, w, activation);
  check_memory_budget(layer_values_bytes<T>(args.batch, args.outputs),
                      "the layer's values on " + args.shapes());
  CArray<T> y = aligned_array<T>({args.batch, args.outputs});
  const auto context = compute_context();
  {
    py::gil_scoped_release release;
    with_activation(args.activation, [&](const auto& activation) {
      layer_values(context->device_for(args.multiply_adds()), args.x, args.w, activation,
                   MatrixView<T>(y.mutable_data(), args.batch, args.outputs));
    });
  }
  return y;
}

template <typename T>
py::tuple value_and_grad_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                            Mode mode, bool wrt_x, bool wrt_w) {
  const LayerArguments<T> args(x, w, activation);
  check_memory_budget(
      value_and_grad_bytes<T>(mode, args.batch, args.inputs, args.outputs, wrt_x, wrt_w),
      std::string(mode_name(mode)) + " mode on " + args.shapes(),
      mode == Mode::reverse ? "" : "use mode='reverse', which needs far less");
  const auto context = compute_context();
  const auto& device = context->device_for(
      value_and_grad_multiply_adds(mode, args.batch, args.inputs, args.outputs, wrt_x, wrt_w));
  return loss_and_gradients(args, wrt_x, wrt_w, [&](T* dx, T* dw) {
    return with_activation(args.activation, [&](const auto& activation) {
      return value_and_grad(device, mode, args.x, args.w, activation, dx, dw);
    });
  });
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_values", &layer_values_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("activation"), "Y = activation(x @ w).");
  m.def("layer_value_and_grad", &value_and_grad_py<T>, py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("activation"), py::arg("mode"), py::arg("wrt_x"),
        py::arg("wrt_w"),
        "(L, dL/dx or None, dL/dw or None) for L = sum(activation(x @ w)**2), by `mode`.");
}

}  // namespace

void register_layer(py::module_& m) {
  py::enum_<Mode> mode(m, "Mode", "How value_and_grad computes gradients.");
  for (const auto& [name, value] : modes) {
    mode.value(std::string(name).c_str(), value);
  }
  define_for<float>(m);
  define_for<double>(m);
}

}  // namespace eigen_autodiff::bindings
