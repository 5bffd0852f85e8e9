// The full Jacobian of the layer's output by forward mode.
#include "layer_arguments.hpp"

#include "eigen_autodiff/jacobian.hpp"
#include "eigen_autodiff/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> jacobian_py(const CArray<T>& x, const CArray<T>& w, const py::object& activation,
                      const std::string& wrt) {
  const LayerArguments<T> args(x, w, activation);
  if (wrt != "w" && wrt != "x") {
    throw py::value_error("unknown wrt '" + wrt + "'; expected 'w' or 'x'");
  }
  const bool of_w = wrt == "w";
  const Index rows = of_w ? args.inputs : args.batch;
  const Index cols = of_w ? args.outputs : args.inputs;
  const auto context = compute_context();
  const auto& device =
      context->device_for(static_cast<double>(args.batch) * args.outputs * rows * cols);
  check_memory_budget(
      detail::saturating_add(jacobian_bytes<T>(args.batch, args.outputs, rows * cols),
                             activation_workspace_bytes<FixedAD<T, forward_chunk_size>, T>(
                                 args.activation, 1, ComputeContext::concurrent_tasks(device))),
      [&] { return "the Jacobian w.r.t. " + wrt + " on " + args.shapes(); });
  CArray<T> jacobian = aligned_array<T>({args.batch, args.outputs, rows, cols});
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      layer_jacobian(device, args.x, args.w, activation, of_w ? ForwardWrt::w : ForwardWrt::x,
                     jacobian.mutable_data());
    });
  }
  return jacobian;
}

}  // namespace

void register_jacobian(py::module_& m) {
  const char* doc = "dY/d(wrt) for Y = activation(x @ w), shape Y.shape + wrt.shape.";
  m.def("layer_jacobian", &jacobian_py<float>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("activation"), py::arg("wrt"), doc);
  m.def("layer_jacobian", &jacobian_py<double>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("activation"), py::arg("wrt"), doc);
}

}  // namespace eigen_autodiff::bindings
