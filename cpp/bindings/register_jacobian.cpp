// The full Jacobian of the layer's output by forward mode.
#include "layer_arguments.hpp"

#include "eigen_autodiff/fast/jacobian.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> jacobian_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                      const py::object& activation, const std::string& wrt) {
  const LayerArguments<T> args(x, w, bias, activation);
  const ForwardWrt of = parameter_from_name(wrt);
  const Index size = parameter_size(args.layer, of);
  const auto context = compute_context();
  const auto& device = context->device_for(static_cast<double>(args.batch) * args.outputs * size);
  check_memory_budget(
      detail::saturating_add(jacobian_bytes<T>(args.batch, args.outputs, size),
                             activation_workspace_bytes<FixedAD<T, forward_chunk_size>, T>(
                                 args.activation, 1, ComputeContext::concurrent_tasks(device))),
      "the Jacobian w.r.t. " + wrt + " on " + args.shapes());
  // (B, M, size): the facade gives it the parameter's shape.
  CArray<T> jacobian = aligned_array<T>({args.batch, args.outputs, size});
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      layer_jacobian(device, args.layer, activation, of, jacobian.mutable_data());
    });
  }
  return jacobian;
}

}  // namespace

void register_jacobian(py::module_& m) {
  const char* doc = "dY/d(wrt) for Y = activation(x @ w + bias), shape Y.shape + wrt.shape.";
  m.def("layer_jacobian", &jacobian_py<float>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("wrt"), doc);
  m.def("layer_jacobian", &jacobian_py<double>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("wrt"), doc);
}

}  // namespace eigen_autodiff::bindings
