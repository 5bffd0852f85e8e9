// What the binding translation units share: the registration functions wired in module.cpp, the
// thread pool the computations run on, and the memory budget checked before allocating.
#pragma once

// Configures Eigen; must precede pybind11's headers, which may pull Eigen in.
#include "eigen_autodiff/core/eigen_setup.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/interrupts.hpp"
#include "eigen_autodiff/core/thread_pool.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"
#include "eigen_autodiff/traced/interpreter.hpp"

namespace eigen_autodiff::bindings {

namespace py = pybind11;

// NumPy arrays as the bindings take them: the facade has already made them C-contiguous.
template <typename T>
using CArray = py::array_t<T, py::array::c_style>;

// A new C-contiguous array whose data starts on a boundary of Eigen's largest packet (see
// ScratchBuffer in core/scratch.hpp): NumPy aligns to 16 bytes only, and products written into
// differently aligned outputs can differ in the last bit. It is a view into a slightly larger
// array, which it keeps alive. Its memory is NumPy's: NumPy's allocator asks for huge pages for
// large arrays, where a fresh malloc'd block costs a page fault per 4 KiB (a 2048 x 2048
// float64 Hessian took 3.5x as long with Eigen's aligned_malloc).
template <typename T>
CArray<T> aligned_array(const std::vector<py::ssize_t>& shape) {
  constexpr py::ssize_t alignment = EIGEN_MAX_ALIGN_BYTES > 0 ? EIGEN_MAX_ALIGN_BYTES : 1;
  constexpr py::ssize_t padding = (alignment + sizeof(T) - 1) / sizeof(T);
  py::ssize_t size = 1;
  for (const py::ssize_t extent : shape) {
    size *= extent;
  }
  CArray<T> storage(size + padding);
  const auto address = reinterpret_cast<std::uintptr_t>(storage.mutable_data());
  const auto offset = static_cast<py::ssize_t>((alignment - address % alignment) % alignment);
  T* data = storage.mutable_data() + offset / static_cast<py::ssize_t>(sizeof(T));
  return CArray<T>(shape, data, storage);
}

void register_activations(py::module_& m);
void register_jacobian(py::module_& m);
void register_layer(py::module_& m);
void register_runtime(py::module_& m);
void register_second_order(py::module_& m);
void register_traced(py::module_& m);

// A thread pool and the devices that run Tensor expressions on it. Calls hold a shared_ptr for
// their whole duration, so set_num_threads never destroys a pool that is in use.
struct ComputeContext {
  // std::runtime_error when a thread cannot be started (core/thread_pool.hpp).
  explicit ComputeContext(int threads);
  std::unique_ptr<ThreadPool> pool;
  Eigen::ThreadPoolDevice device;
  // The same pool, told to use one thread: Eigen then runs everything in the calling thread.
  Eigen::ThreadPoolDevice inline_device;

  // Handing work to other threads costs microseconds; below this many multiply-adds it is not
  // worth it.
  static constexpr double parallel_work_threshold = 1 << 17;
  const Eigen::ThreadPoolDevice& device_for(double multiply_adds) const {
    return multiply_adds < parallel_work_threshold ? inline_device : device;
  }
  // Tasks that may run at once on a device: its threads, the calling thread among them.
  static Index concurrent_tasks(const Eigen::ThreadPoolDevice& device) {
    return device.numThreads();
  }
};

// The current context, created on first use; safe to call from any thread, with or without the
// GIL (the GIL is never taken while the context's lock is held).
std::shared_ptr<const ComputeContext> compute_context();

// While it lasts: the GIL is released, and the core's cancellation points check for Ctrl-C
// (KeyboardInterrupt, or whatever Python's SIGINT handler raises) in this thread. A computation
// of fewer multiply-adds than small_work does neither: it ends within microseconds, and releasing
// the GIL or reading the clock at every cancellation point would cost more than it (a 3x3
// layer's gradient).
struct Computing {
  static constexpr double small_work = 1 << 14;
  explicit Computing(double multiply_adds = small_work) {
    if (multiply_adds >= small_work) {
      release.emplace();
      interruptible.emplace();
    }
  }
  std::optional<py::gil_scoped_release> release;
  std::optional<InterruptScope> interruptible;
};

// An activation as the bindings receive it, resolved with the GIL held: a built-in, or a traced
// program. The shared_ptr keeps the program alive while the GIL is released, even if Python drops
// its last reference meanwhile.
using ActivationSpec = std::variant<Activation, std::shared_ptr<const TracedProgram>>;

// A built-in name (str) or a TracedProgram; TypeError for anything else. Python callables are
// traced into TracedProgram by the facade (eigen_autodiff._activation_spec) before they get here.
inline ActivationSpec resolve_activation(const py::handle& activation) {
  if (py::isinstance<py::str>(activation)) {
    return activation_from_name(activation.cast<std::string>());
  }
  if (py::isinstance<TracedProgram>(activation)) {
    return std::shared_ptr<const TracedProgram>(activation.cast<std::shared_ptr<TracedProgram>>());
  }
  throw py::type_error("activation must be a built-in name or a TracedProgram, got " +
                       std::string(py::str(py::type::handle_of(activation).attr("__name__"))));
}

// Calls f with the activation's function object (GIL not needed). Every computation goes through
// here, so a new kind of activation needs adding in this one place.
template <typename F>
decltype(auto) with_activation(const ActivationSpec& activation, F&& f) {
  if (const auto* program = std::get_if<std::shared_ptr<const TracedProgram>>(&activation)) {
    return f(TracedActivation{program->get()});
  }
  return visit_activation(std::get<Activation>(activation), std::forward<F>(f));
}

// Raises MemoryError naming the request (what) and, where a cheaper way exists, the hint to it,
// when `bytes` is more than the budget (or than any allocation can be).
[[noreturn]] void raise_memory_error(std::uint64_t bytes, const std::string& what,
                                     const std::string& hint = "");
bool within_memory_budget(std::uint64_t bytes);

// Raises MemoryError (with the GIL held) when a request would need more than the budget.
// describe() names the request; it is called only to raise, since a description can cost more
// than the request (a traced program's listing).
template <typename Describe, typename = std::enable_if_t<std::is_invocable_v<Describe>>>
void check_memory_budget(std::uint64_t bytes, Describe&& describe, const std::string& hint = "") {
  if (!within_memory_budget(bytes)) {
    raise_memory_error(bytes, describe(), hint);
  }
}

// The same for a request whose description is cheap to build.
inline void check_memory_budget(std::uint64_t bytes, const std::string& what,
                                const std::string& hint = "") {
  check_memory_budget(bytes, [&what] { return what; }, hint);
}

// The working memory of evaluating the activation on S over `width` elements at once in `tasks`
// tasks at once: a traced program's registers; nothing for a built-in.
template <typename S, typename T>
std::uint64_t activation_workspace_bytes(const ActivationSpec& activation, Index width, Index tasks,
                                         Index heap_derivatives = 0) {
  if (const auto* program = std::get_if<std::shared_ptr<const TracedProgram>>(&activation)) {
    return traced_register_bytes<S, T>(**program, width, tasks, heap_derivatives);
  }
  return 0;
}

}  // namespace eigen_autodiff::bindings
