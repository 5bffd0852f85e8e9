// The layer's loss with gradients by forward mode: chunked with seed compression (fast), and the
// article's dynamic derivative vectors (the baseline it is measured against).
#include "layer_arguments.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "eigen_autodiff/chunked_forward.hpp"
#include "eigen_autodiff/forward_mode.hpp"
#include "eigen_autodiff/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
py::tuple chunked_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                     bool wrt_x, bool wrt_w) {
  const LayerArguments<T> args(x, w, activation);
  const auto context = compute_context();
  // Each of the N/K passes does about B*M*K^2 work.
  const auto& device =
      context->device_for(args.multiply_adds() * (forward_chunk_size * (wrt_x + wrt_w) + 1));
  // The activation runs per element on K-derivative scalars.
  check_memory_budget(
      detail::saturating_add(chunked_forward_bytes<T, forward_chunk_size>(
                                 args.batch, args.inputs, args.outputs, wrt_x, wrt_w),
                             activation_workspace_bytes<FixedAD<T, forward_chunk_size>, T>(
                                 args.activation, 1, ComputeContext::concurrent_tasks(device))),
      [&] { return "forward mode on " + args.shapes(); });
  return loss_and_gradients(args, wrt_x, wrt_w, [&](T* dx, T* dw) {
    return with_activation(args.activation, [&](const auto& activation) {
      return value_and_grad_chunked_forward(device, args.x, args.w, activation, dx, dw);
    });
  });
}

template <typename T>
py::tuple dynamic_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                     bool wrt_x, bool wrt_w) {
  const LayerArguments<T> args(x, w, activation);
  // The activation runs per element in this thread, on scalars carrying every derivative.
  const auto derivatives = static_cast<Index>(std::min<std::uint64_t>(
      forward_mode_derivative_count(args.batch, args.inputs, args.outputs, wrt_x, wrt_w),
      std::numeric_limits<Index>::max()));
  check_memory_budget(
      detail::saturating_add(
          forward_mode_workspace_bytes<T>(args.batch, args.inputs, args.outputs, wrt_x, wrt_w),
          activation_workspace_bytes<DynamicAD<T>, T>(args.activation, 1, 1, derivatives)),
      [&] { return "forward mode with dynamic derivative vectors on " + args.shapes(); });
  return loss_and_gradients(args, wrt_x, wrt_w, [&](T* dx, T* dw) {
    return with_activation(args.activation, [&](const auto& activation) {
      return value_and_grad_forward_dynamic(args.x, args.w, activation, dx, dw);
    });
  });
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_value_and_grad_forward", &chunked_py<T>, py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("activation"), py::arg("wrt_x"), py::arg("wrt_w"),
        "(L, dL/dx or None, dL/dw or None) by forward mode in chunks with seed compression.");
  m.def("layer_value_and_grad_forward_dynamic", &dynamic_py<T>, py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("activation"), py::arg("wrt_x"), py::arg("wrt_w"),
        "(L, dL/dx or None, dL/dw or None) by the article's forward mode (one dynamic derivative "
        "vector holding every parameter).");
}

}  // namespace

void register_forward_modes(py::module_& m) {
  define_for<float>(m);
  define_for<double>(m);
}

}  // namespace eigen_autodiff::bindings
