// Process-wide settings: the number of threads and the memory budget.
#include "bindings.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <thread>

#include <sched.h>

#include "eigen_autodiff/chunked_forward.hpp"
#include "eigen_autodiff/memory_estimates.hpp"

namespace eigen_autodiff::bindings {

namespace {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max(1, CPU_COUNT(&set));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::shared_ptr<const ComputeContext>& current_context() {
  static std::shared_ptr<const ComputeContext> context;
  return context;
}

std::atomic<std::uint64_t> memory_budget{std::uint64_t{2} << 30};

// No allocation can be larger than the largest object size: an estimate beyond it (saturated
// estimates included) is refused whatever the budget, so huge shapes never reach size arithmetic
// that could overflow.
constexpr std::uint64_t largest_allocation = std::numeric_limits<std::ptrdiff_t>::max();

// Each thread is an OS thread with its own stack; Eigen's pool cannot recover from a failure to
// start one (it would wait forever for the threads it did start), so the count is bounded.
constexpr int max_threads = 1024;

// The estimate of memory_estimates.hpp for a request, by name: what the facade checks before it
// makes contiguous copies of its inputs.
template <typename T>
std::uint64_t request_bytes(const std::string& request, Index batch, Index inputs, Index outputs,
                            bool wrt_x, bool wrt_w) {
  if (request == "forward") {
    return forward_bytes<T>(batch, outputs);
  }
  if (request == "reverse") {
    return reverse_mode_bytes<T>(batch, inputs, outputs, wrt_x, wrt_w);
  }
  if (request == "forward_chunked") {
    return chunked_forward_bytes<T, forward_chunk_size>(batch, inputs, outputs, wrt_x, wrt_w);
  }
  if (request == "forward_dynamic") {
    return forward_mode_workspace_bytes<T>(batch, inputs, outputs, wrt_x, wrt_w);
  }
  // A parameter's size fits in Index: it is the size of an array.
  const auto size = [](std::uint64_t n) {
    return static_cast<Index>(std::min<std::uint64_t>(n, std::numeric_limits<Index>::max()));
  };
  if (request == "jacobian_w") {
    return jacobian_bytes<T>(batch, outputs, size(detail::product(inputs, outputs)));
  }
  if (request == "jacobian_x") {
    return jacobian_bytes<T>(batch, outputs, size(detail::product(batch, inputs)));
  }
  if (request == "elementwise") {
    return elementwise_bytes<T>(batch);
  }
  throw py::value_error("memory_estimate: unknown request '" + request + "'");
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == std::numeric_limits<std::uint64_t>::max()) {
    return "more than 2**64 bytes";
  }
  const double gib = static_cast<double>(bytes) / static_cast<double>(std::uint64_t{1} << 30);
  return std::to_string(bytes) + " bytes (" + std::to_string(gib) + " GiB)";
}

}  // namespace

ComputeContext::ComputeContext(int threads)
    : pool(threads), device(&pool, threads), inline_device(&pool, 1) {}

std::shared_ptr<const ComputeContext> compute_context() {
  auto& context = current_context();
  if (!context) {
    context = std::make_shared<const ComputeContext>(available_cores());
  }
  return context;
}

void check_memory_budget(std::uint64_t bytes, const std::string& what) {
  const std::uint64_t budget = memory_budget.load();
  if (bytes > largest_allocation) {
    const std::string message =
        what + " needs an estimated " + format_bytes(bytes) + ", more than any allocation can hold";
    PyErr_SetString(PyExc_MemoryError, message.c_str());
    throw py::error_already_set();
  }
  if (bytes > budget) {
    // Both forward modes describe themselves as "forward mode ..."; reverse mode needs far less.
    const bool forward_mode = what.rfind("forward mode", 0) == 0;
    const std::string message = what + " needs an estimated " + format_bytes(bytes) +
                                ", more than the memory budget of " + format_bytes(budget) +
                                "; raise it with eigen_autodiff.set_memory_budget(bytes)" +
                                (forward_mode ? " or use mode='reverse'" : "");
    PyErr_SetString(PyExc_MemoryError, message.c_str());
    throw py::error_already_set();
  }
}

void register_runtime(py::module_& m) {
  m.def(
      "set_num_threads",
      [](int threads) {
        if (threads < 1 || threads > max_threads) {
          throw py::value_error("set_num_threads: n must be at least 1 and at most " +
                                std::to_string(max_threads) + ", got " + std::to_string(threads));
        }
        current_context() = std::make_shared<const ComputeContext>(threads);
      },
      py::arg("n"), "Use n threads for the computations that follow.");
  m.def(
      "get_num_threads", [] { return compute_context()->pool.NumThreads(); },
      "The number of threads computations run on.");
  m.def(
      "set_memory_budget", [](std::uint64_t bytes) { memory_budget.store(bytes); },
      py::arg("bytes"), "Largest estimated working memory a request may ask for.");
  m.def(
      "get_memory_budget", [] { return memory_budget.load(); },
      "Largest estimated working memory a request may ask for, in bytes.");
  m.def(
      "memory_estimate",
      [](const std::string& request, const std::string& dtype, Index batch, Index inputs,
         Index outputs, bool wrt_x, bool wrt_w) {
        if (batch < 0 || inputs < 0 || outputs < 0) {
          throw py::value_error("memory_estimate: dimensions must be non-negative");
        }
        if (dtype == "float32") {
          return request_bytes<float>(request, batch, inputs, outputs, wrt_x, wrt_w);
        }
        if (dtype == "float64") {
          return request_bytes<double>(request, batch, inputs, outputs, wrt_x, wrt_w);
        }
        throw py::value_error("memory_estimate: dtype must be 'float32' or 'float64', got '" +
                              dtype + "'");
      },
      py::arg("request"), py::arg("dtype"), py::arg("batch"), py::arg("inputs"), py::arg("outputs"),
      py::arg("wrt_x"), py::arg("wrt_w"),
      "Estimated bytes a request (forward, reverse, forward_chunked, forward_dynamic, jacobian_w, "
      "jacobian_x, or elementwise on batch entries) allocates.");
  m.def("check_memory_budget", &check_memory_budget, py::arg("bytes"), py::arg("what"),
        "Raises MemoryError, naming `what`, when `bytes` exceeds the memory budget.");
}

}  // namespace eigen_autodiff::bindings
