// The extension module eigen_autodiff._core_<instruction set>, imported as eigen_autodiff._core:
// wires the registration functions of each area.
#include "bindings.hpp"

#include <string>

namespace {

// The vector instructions Eigen's kernels were compiled with, widest first. Eigen's own
// SimdInstructionSetsInUse() names AVX2 and FMA only beside AVX-512.
std::string eigen_vector_instructions() {
  std::string names;
  [[maybe_unused]] auto add = [&names](const char* name) {
    names += (names.empty() ? "" : ", ") + std::string(name);
  };
#ifdef EIGEN_VECTORIZE_AVX512
  add("AVX-512");
#endif
#ifdef EIGEN_VECTORIZE_AVX2
  add("AVX2");
#endif
#ifdef EIGEN_VECTORIZE_FMA
  add("FMA");
#endif
#ifdef EIGEN_VECTORIZE_AVX
  add("AVX");
#endif
#ifdef EIGEN_VECTORIZE_SSE4_2
  add("SSE4.2");
#endif
#ifdef EIGEN_VECTORIZE_SSE2
  add("SSE2");
#endif
#ifdef EIGEN_VECTORIZE_NEON
  add("NEON");
#endif
  return names.empty() ? "none (scalar code)" : names;
}

}  // namespace

PYBIND11_MODULE(EIGEN_AUTODIFF_PYTHON_MODULE, m) {
  // Its classes and functions belong to eigen_autodiff._core whichever copy defines them, so a
  // pickled TracedProgram loads with the copy the loading machine chose.
  m.attr("__name__") = "eigen_autodiff._core";
  m.doc() = "C++ core of eigen-autodiff: Eigen AutoDiffScalar and Tensor contractions.";
  m.attr("__version__") = EIGEN_AUTODIFF_VERSION;
  m.attr("instruction_set") = EIGEN_AUTODIFF_INSTRUCTION_SET;
  m.attr("vector_instructions") = eigen_vector_instructions();
  eigen_autodiff::bindings::register_traced(m);
  eigen_autodiff::bindings::register_activations(m);
  eigen_autodiff::bindings::register_layer(m);
  eigen_autodiff::bindings::register_jacobian(m);
  eigen_autodiff::bindings::register_second_order(m);
  // Last: its memory estimates take the Mode that register_layer defines.
  eigen_autodiff::bindings::register_runtime(m);
}
