// Process-wide settings: the number of threads and the memory budget.
#include "bindings.hpp"

#include <atomic>
#include <thread>

#include <sched.h>

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
  if (bytes > budget) {
    const std::string message = what + " needs an estimated " + format_bytes(bytes) +
                                ", more than the memory budget of " + format_bytes(budget) +
                                "; raise it with eigen_autodiff.set_memory_budget(bytes) or use "
                                "mode='reverse'";
    PyErr_SetString(PyExc_MemoryError, message.c_str());
    throw py::error_already_set();
  }
}

void register_runtime(py::module_& m) {
  m.def(
      "set_num_threads",
      [](int threads) {
        if (threads < 1) {
          throw py::value_error("set_num_threads: n must be at least 1, got " +
                                std::to_string(threads));
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
}

}  // namespace eigen_autodiff::bindings
