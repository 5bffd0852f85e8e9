// Activations: the built-in names, and elementwise values and derivatives of any activation.
#include "bindings.hpp"

#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
py::tuple value_and_derivative(const py::object& activation, const CArray<T>& x) {
  const ActivationSpec spec = resolve_activation(activation);
  const std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  // Evaluated in this thread, a chunk of elements at a time.
  check_memory_budget(
      detail::saturating_add(elementwise_bytes<T>(x.size()),
                             activation_workspace_bytes<ScalarAD<T>, T>(spec, traced_chunk, 1)),
      [&] {
        return "the derivative of " + py::str(activation).cast<std::string>() + " on " +
               std::to_string(x.size()) + " entries";
      });
  CArray<T> value(shape);
  CArray<T> derivative(shape);
  {
    const Computing computing;
    with_activation(spec, [&](const auto& activation) {
      activation_value_and_derivative(activation, x.data(), value.mutable_data(),
                                      derivative.mutable_data(), x.size());
    });
  }
  return py::make_tuple(value, derivative);
}

}  // namespace

void register_activations(py::module_& m) {
  py::list names;
  for (Activation a : all_activations) {
    names.append(py::str(std::string(activation_name(a))));
  }
  m.attr("ACTIVATIONS") = py::tuple(names);

  const char* doc =
      "Value and derivative of an activation (built-in name or TracedProgram) at each element of "
      "x.";
  m.def("activation_value_and_derivative", &value_and_derivative<float>, py::arg("activation"),
        py::arg("x").noconvert(), doc);
  m.def("activation_value_and_derivative", &value_and_derivative<double>, py::arg("activation"),
        py::arg("x").noconvert(), doc);
}

}  // namespace eigen_autodiff::bindings
