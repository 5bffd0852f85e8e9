// The extension module eigen_autodiff._core: wires the registration functions of each area.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of eigen-autodiff: Eigen AutoDiffScalar and Tensor contractions.";
  m.attr("__version__") = EIGEN_AUTODIFF_VERSION;
  eigen_autodiff::bindings::register_traced(m);
  eigen_autodiff::bindings::register_activations(m);
  eigen_autodiff::bindings::register_layer(m);
  eigen_autodiff::bindings::register_jacobian(m);
  eigen_autodiff::bindings::register_second_order(m);
  // Last: its memory estimates take the Mode that register_layer defines.
  eigen_autodiff::bindings::register_runtime(m);
}
