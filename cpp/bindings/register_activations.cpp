// Activations: the built-in names, and elementwise values and derivatives of any activation.
#include "bindings.hpp"

#include <array>
#include <string>
#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"
#include "eigen_autodiff/fast/second_order.hpp"

namespace eigen_autodiff::bindings {

namespace {

// N new arrays of x's shape, filled by compute(activation, outputs) with the GIL released, after
// the budget check: the values and derivatives of an activation at every element of x.
template <std::size_t N, typename T, typename Compute>
py::tuple elementwise(const py::object& activation, const CArray<T>& x, const char* what,
                      Compute&& compute) {
  const ActivationSpec spec = resolve_activation(activation);
  const std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  // Evaluated in this thread, a chunk of elements at a time.
  check_memory_budget(
      detail::saturating_add(detail::saturating_mul(N * sizeof(T), detail::count(x.size())),
                             activation_workspace_bytes<ScalarAD<T>, T>(spec, traced_chunk, 1)),
      [&] {
        return std::string(what) + " of " + py::str(activation).cast<std::string>() + " on " +
               std::to_string(x.size()) + " entries";
      });
  std::array<CArray<T>, N> outputs;
  for (CArray<T>& output : outputs) {
    output = CArray<T>(shape);
  }
  {
    const Computing computing;
    with_activation(spec, [&](const auto& activation) { compute(activation, outputs); });
  }
  py::tuple result(N);
  for (std::size_t k = 0; k < N; ++k) {
    result[k] = outputs[k];
  }
  return result;
}

template <typename T>
py::tuple value_and_derivative(const py::object& activation, const CArray<T>& x) {
  return elementwise<2>(activation, x, "the derivative", [&](const auto& act, auto& out) {
    activation_value_and_derivative(act, x.data(), out[0].mutable_data(), out[1].mutable_data(),
                                    x.size());
  });
}

template <typename T>
py::tuple second_derivative_py(const py::object& activation, const CArray<T>& x) {
  return elementwise<3>(activation, x, "second derivatives", [&](const auto& act, auto& out) {
    second_derivative(act, x.data(), out[0].mutable_data(), out[1].mutable_data(),
                      out[2].mutable_data(), x.size());
  });
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
  const char* second_doc =
      "(value, first, second derivative) of an activation at each element of x.";
  m.def("activation_second_derivative", &second_derivative_py<float>, py::arg("activation"),
        py::arg("x").noconvert(), second_doc);
  m.def("activation_second_derivative", &second_derivative_py<double>, py::arg("activation"),
        py::arg("x").noconvert(), second_doc);
}

}  // namespace eigen_autodiff::bindings
