// The module eigen_autodiff._instruction_sets: which of the module's instruction sets this CPU
// runs. Compiled for the oldest CPU a wheel serves, and free of Eigen, so that it loads anywhere
// before any copy of the module does.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace {

py::tuple supported_instruction_sets() {
#if EIGEN_AUTODIFF_X86_LEVELS
  // The levels of the x86-64 psABI, as the copies are compiled (-march=x86-64-v2, v3, v4). The
  // check includes the operating system's support for the wide registers (XSAVE state).
  __builtin_cpu_init();
  py::list sets;
  if (__builtin_cpu_supports("x86-64-v2")) {
    sets.append("baseline");
  }
  if (__builtin_cpu_supports("x86-64-v3")) {
    sets.append("avx2");
  }
  if (__builtin_cpu_supports("x86-64-v4")) {
    sets.append("avx512");
  }
  return py::tuple(sets);
#else
  // Compiled for the compiler's default target, which every CPU that runs this module runs.
  return py::make_tuple("baseline");
#endif
}

}  // namespace

PYBIND11_MODULE(_instruction_sets, m) {
  m.doc() = "Which of eigen_autodiff's compiled instruction sets this CPU runs.";
  m.def("supported", &supported_instruction_sets,
        "The instruction sets this CPU runs, among baseline, avx2 and avx512.");
}
