// The layer Y = activation(x @ w + b): its values, its loss with gradients by each of the three
// modes, its vector-Jacobian and Jacobian-vector products.
#include "layer_arguments.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "eigen_autodiff/fast/reverse.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> layer_values_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                          const py::object& activation) {
  const LayerArguments<T> args(x, w, bias, activation);
  const auto context = compute_context();
  const auto& device = context->device_for(args.multiply_adds());
  check_memory_budget(detail::saturating_add(layer_values_bytes<T>(args.batch, args.outputs),
                                             activation_workspace_bytes<T, T>(
                                                 args.activation, traced_chunk,
                                                 ComputeContext::concurrent_tasks(device))),
                      [&] { return "the layer's values on " + args.shapes(); });
  CArray<T> y = aligned_array<T>({args.batch, args.outputs});
  {
    const Computing computing(args.multiply_adds());
    with_activation(args.activation, [&](const auto& activation) {
      layer_values(device, args.layer, activation,
                   MatrixView<T>(y.mutable_data(), args.batch, args.outputs));
    });
  }
  return y;
}

template <typename T>
py::tuple value_and_grad_py(const CArray<T>& x, const CArray<T>& w, py::handle bias,
                            py::handle activation, Mode mode, py::handle target, bool mean,
                            Wanted wanted) {
  const LayerArguments<T> args(x, w, bias, activation);
  const double scale =
      mean ? 1.0 / static_cast<double>(std::max<Index>(1, args.batch * args.outputs)) : 1.0;
  const SquaredError<T> loss{optional_data<T>(target, args.batch * args.outputs, "target"), scale};
  const auto context = compute_context();
  const auto& device = context->device_for(
      value_and_grad_multiply_adds(mode, args.batch, args.inputs, args.outputs, wanted));
  // A traced activation's registers: over chunks of elements in reverse mode, per element on
  // K-derivative scalars in forward mode, in this thread on scalars carrying every derivative
  // in the article's mode.
  const Index tasks = ComputeContext::concurrent_tasks(device);
  const auto every_derivative = static_cast<Index>(
      std::min<std::uint64_t>(wanted_entries(args.batch, args.inputs, args.outputs, wanted),
                              std::numeric_limits<Index>::max()));
  const std::uint64_t registers =
      mode == Mode::reverse
          ? activation_workspace_bytes<ScalarAD<T>, T>(args.activation, traced_chunk, tasks)
      : mode == Mode::forward
          ? activation_workspace_bytes<FixedAD<T, forward_chunk_size>, T>(args.activation, 1, tasks)
          : activation_workspace_bytes<DynamicAD<T>, T>(args.activation, 1, 1, every_derivative);
  check_memory_budget(
      detail::saturating_add(
          value_and_grad_bytes<T>(mode, args.batch, args.inputs, args.outputs, wanted), registers),
      [&] { return std::string(mode_name(mode)) + " mode on " + args.shapes(); },
      mode == Mode::reverse ? "" : "use mode='reverse', which needs far less");
  GradientArrays<T> grads(args, wanted);
  double value = 0;
  {
    const Computing computing(
        value_and_grad_multiply_adds(mode, args.batch, args.inputs, args.outputs, wanted));
    value = with_activation(args.activation, [&](const auto& activation) {
      return value_and_grad(device, mode, args.layer, activation, loss, grads.pointers);
    });
  }
  return py::make_tuple(value, grads.as_tuple());
}

template <typename T>
py::tuple vjp_py(const CArray<T>& x, const CArray<T>& w, py::handle bias, py::handle activation,
                 py::handle cotangent, Wanted wanted) {
  const LayerArguments<T> args(x, w, bias, activation);
  const T* cotangent_data = optional_data<T>(cotangent, args.batch * args.outputs, "cotangent");
  const auto context = compute_context();
  const auto& device = context->device_for(2 * args.multiply_adds());
  check_memory_budget(
      detail::saturating_add(
          reverse_bytes<T>(args.batch, args.inputs, args.outputs, wanted),
          activation_workspace_bytes<ScalarAD<T>, T>(args.activation, traced_chunk,
                                                     ComputeContext::concurrent_tasks(device))),
      [&] { return "the VJP on " + args.shapes(); });
  GradientArrays<T> grads(args, wanted);
  {
    const Computing computing(2 * args.multiply_adds());
    with_activation(args.activation, [&](const auto& activation) {
      layer_vjp(device, args.layer, activation, cotangent_data, grads.pointers);
    });
  }
  return grads.as_tuple();
}

template <typename T>
py::tuple jvp_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                 const py::object& activation, const py::object& tangent_x,
                 const py::object& tangent_w, const py::object& tangent_b) {
  const LayerArguments<T> args(x, w, bias, activation);
  const T* tx = optional_data<T>(tangent_x, args.batch * args.inputs, "the tangent of x");
  const T* tw = optional_data<T>(tangent_w, args.inputs * args.outputs, "the tangent of w");
  const T* tb = optional_data<T>(tangent_b, args.outputs, "the tangent of b");
  check_memory_budget(jvp_bytes<T>(args.batch, args.outputs),
                      [&] { return "the JVP on " + args.shapes(); });
  CArray<T> y = aligned_array<T>({args.batch, args.outputs});
  CArray<T> dy = aligned_array<T>({args.batch, args.outputs});
  const auto context = compute_context();
  const auto& device = context->device_for(3 * args.multiply_adds());
  {
    const Computing computing(3 * args.multiply_adds());
    with_activation(args.activation, [&](const auto& activation) {
      layer_jvp(device, args.layer, activation, tx, tw, tb,
                MatrixView<T>(y.mutable_data(), args.batch, args.outputs),
                MatrixView<T>(dy.mutable_data(), args.batch, args.outputs));
    });
  }
  return py::make_tuple(y, dy);
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_values", &layer_values_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), "Y = activation(x @ w + bias).");
  m.def("layer_jvp", &jvp_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("tangent_x"), py::arg("tangent_w"),
        py::arg("tangent_b"), "(Y, dY): Y and its derivative along the tangents (None: zero).");
}

}  // namespace

void register_layer(py::module_& m) {
  py::enum_<Mode> mode(m, "Mode", "How value_and_grad computes gradients.");
  for (const auto& [name, value] : modes) {
    mode.value(std::string(name).c_str(), value);
  }
  define_for<float>(m);
  define_for<double>(m);
  // One definition for both dtypes, which it tells apart itself (see with_core_arrays): pybind11's
  // overloads would try the float32 one first and convert each array argument.
  m.def(
      "layer_value_and_grad",
      [](py::handle x, py::handle w, py::handle bias, py::handle activation, Mode mode,
         py::handle target, bool mean, bool wrt_x, bool wrt_w, bool wrt_b) {
        return with_core_arrays(x, w, [&](auto zero) -> py::object {
          using T = decltype(zero);
          const auto [batch, outputs] = output_shape(x, w);
          if (!is_none_or_core_array<T>(bias, {outputs}) ||
              !is_none_or_core_array<T>(target, {batch, outputs})) {
            return py::none();
          }
          return value_and_grad_py<T>(borrow_array<T>(x), borrow_array<T>(w), bias, activation,
                                      mode, target, mean, Wanted{wrt_x, wrt_w, wrt_b});
        });
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("activation"), py::arg("mode"),
      py::arg("target"), py::arg("mean"), py::arg("wrt_x"), py::arg("wrt_w"), py::arg("wrt_b"),
      "(L, (dL/dx, dL/dw, dL/db), None where not wanted) for "
      "L = sum((activation(x @ w + bias) - target)**2), divided by Y's size if `mean`, by `mode`; "
      "None when an array needs converting first.");
  m.def(
      "layer_vjp",
      [](py::handle x, py::handle w, py::handle bias, py::handle activation, py::handle cotangent,
         bool wrt_x, bool wrt_w, bool wrt_b) {
        return with_core_arrays(x, w, [&](auto zero) -> py::object {
          using T = decltype(zero);
          const auto [batch, outputs] = output_shape(x, w);
          if (!is_none_or_core_array<T>(bias, {outputs}) || !is_core_array<T>(cotangent) ||
              !has_shape(cotangent, {batch, outputs})) {
            return py::none();
          }
          return vjp_py<T>(borrow_array<T>(x), borrow_array<T>(w), bias, activation, cotangent,
                           Wanted{wrt_x, wrt_w, wrt_b});
        });
      },
      py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("activation"), py::arg("cotangent"),
      py::arg("wrt_x"), py::arg("wrt_w"), py::arg("wrt_b"),
      "(dx, dw, db), None where not wanted: the gradients of sum(cotangent * Y); None when an "
      "array needs converting first.");
}

}  // namespace eigen_autodiff::bindings
