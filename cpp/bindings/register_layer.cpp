// The custom layer's output, and its loss with gradients by reverse mode.
#include "layer_arguments.hpp"

#include <vector>

#include "eigen_autodiff/memory_estimates.hpp"
#include "eigen_autodiff/reverse_mode.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> layer_forward_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation) {
  const LayerArguments<T> args(x, w, activation);
  const auto context = compute_context();
  const auto& device = context->device_for(args.multiply_adds());
  check_memory_budget(detail::saturating_add(forward_bytes<T>(args.batch, args.outputs),
                                             activation_workspace_bytes<T, T>(
                                                 args.activation, traced_chunk,
                                                 ComputeContext::concurrent_tasks(device))),
                      [&] { return "forward on " + args.shapes(); });
  CArray<T> y = aligned_array<T>({args.batch, args.outputs});
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      layer_forward(device, args.x, args.w, activation,
                    MatrixView<T>(y.mutable_data(), args.batch, args.outputs));
    });
  }
  return y;
}

template <typename T>
py::tuple value_and_grad_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                            bool wrt_x, bool wrt_w) {
  const LayerArguments<T> args(x, w, activation);
  const auto context = compute_context();
  const auto& device = context->device_for(3 * args.multiply_adds());
  check_memory_budget(
      detail::saturating_add(
          reverse_mode_bytes<T>(args.batch, args.inputs, args.outputs, wrt_x, wrt_w),
          activation_workspace_bytes<ScalarAD<T>, T>(args.activation, traced_chunk,
                                                     ComputeContext::concurrent_tasks(device))),
      [&] { return "reverse mode on " + args.shapes(); });
  return loss_and_gradients(args, wrt_x, wrt_w, [&](T* dx, T* dw) {
    AlignedVector<T> workspace(static_cast<std::size_t>(args.batch * args.outputs));
    return with_activation(args.activation, [&](const auto& activation) {
      return value_and_grad_reverse(device, args.x, args.w, activation, dx, dw, workspace.data());
    });
  });
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_forward", &layer_forward_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("activation"), "Y = activation(x @ w).");
  m.def("layer_value_and_grad", &value_and_grad_py<T>, py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("activation"), py::arg("wrt_x"), py::arg("wrt_w"),
        "(L, dL/dx or None, dL/dw or None) for L = sum(activation(x @ w)**2), by reverse mode.");
}

}  // namespace

void register_layer(py::module_& m) {
  define_for<float>(m);
  define_for<double>(m);
}

}  // namespace eigen_autodiff::bindings
