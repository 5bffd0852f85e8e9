// Process-wide state: the thread pool (and what becomes of it across fork), the memory budget,
// and the check for Ctrl-C that the core calls between blocks of work.
//
// Every piece of it is safe to use from several threads without the GIL (for free-threaded
// Python): the pool behind a mutex, the rest atomic. The mutex is never held while taking the
// GIL, so a thread holding the GIL may wait for it without deadlock.
#include "bindings.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

#include <pthread.h>
#include <sched.h>

#include "eigen_autodiff/core/parallel.hpp"
#include "eigen_autodiff/fast/second_order.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"

namespace eigen_autodiff::bindings {

namespace {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max(1, CPU_COUNT(&set));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// The current context. Never destroyed, not even at exit, where a daemon thread may still be
// computing on it; the process's end reclaims it.
struct ContextHolder {
  std::mutex mutex;
  std::shared_ptr<const ComputeContext> context;
};

ContextHolder& context_holder() {
  static auto* holder = new ContextHolder;
  return *holder;
}

// After fork, the child has the parent's pool object but not its threads: destroying it, or
// waiting for its work, would wait forever. The child sets it aside here, where no destructor
// runs, and makes a pool of its own on first use.
alignas(std::shared_ptr<const ComputeContext>) unsigned char forked_context_storage[sizeof(
    std::shared_ptr<const ComputeContext>)];

// Python runs signal handlers in its main thread only; only there may Ctrl-C be noticed.
std::atomic<unsigned long> main_thread_ident{0};

// The locks of parallel.hpp too: a computation running in another thread finishes first, so the
// child does not inherit them held by a thread it does not have.
void lock_context_before_fork() {
  detail::computing_caller().lock();
  context_holder().mutex.lock();
  detail::spinners().lock_before_fork();
}
void unlock_context_in_parent() {
  detail::spinners().unlock_after_fork(false);
  context_holder().mutex.unlock();
  detail::computing_caller().unlock();
}
void reset_context_in_child() {
  detail::spinners().unlock_after_fork(true);
  detail::computing_caller().unlock();
  ContextHolder& holder = context_holder();
  new (forked_context_storage) std::shared_ptr<const ComputeContext>(std::move(holder.context));
  // The thread that forked is the child's only thread, and its main thread for Python.
  main_thread_ident = PyThread_get_thread_ident();
  holder.mutex.unlock();
}

// The core's interrupt check (interrupts.hpp): runs Python's signal handlers and stops the
// computation with what they raise. Called in the thread that started the computation, with the
// GIL released.
void check_for_signals() {
  if (PyThread_get_thread_ident() != main_thread_ident.load()) {
    return;
  }
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) {
    throw py::error_already_set();
  }
}

// The count set_num_threads chose (0: one per core). A forked child's new pool has it too.
std::atomic<int> chosen_threads{0};

std::atomic<std::uint64_t> memory_budget{std::uint64_t{2} << 30};

// No allocation can be larger than the largest object size: an estimate beyond it (saturated
// estimates included) is refused whatever the budget, so huge shapes never reach size arithmetic
// that could overflow.
constexpr std::uint64_t largest_allocation = std::numeric_limits<std::ptrdiff_t>::max();

// Each thread is an OS thread with its own stack, and far more threads than cores only slow the
// work down: a count beyond this is a mistake. (A count the system cannot start raises
// RuntimeError, see thread_pool.hpp.)
constexpr int max_threads = 1024;

// Calls f with a value of the C++ type named by dtype ("float32" or "float64").
template <typename F>
decltype(auto) with_dtype(const std::string& dtype, F&& f) {
  if (dtype == "float32") {
    return f(float{});
  }
  if (dtype == "float64") {
    return f(double{});
  }
  throw py::value_error("dtype must be 'float32' or 'float64', got '" + dtype + "'");
}

void check_dimensions(std::initializer_list<Index> dimensions) {
  for (const Index n : dimensions) {
    if (n < 0) {
      throw py::value_error("memory estimates: dimensions must be non-negative, got " +
                            std::to_string(n));
    }
  }
}

// The entries of the parameter named wrt ("w", "x" or "b"); a parameter's size fits in Index,
// being the size of an array.
Index parameter_entries(const std::string& wrt, Index batch, Index inputs, Index outputs) {
  const std::uint64_t n =
      wrt == "w"   ? detail::product(inputs, outputs)
      : wrt == "x" ? detail::product(batch, inputs)
      : wrt == "b" ? detail::count(outputs)
                   : throw py::value_error("unknown wrt '" + wrt + "'; expected 'w', 'x' or 'b'");
  return static_cast<Index>(std::min<std::uint64_t>(n, std::numeric_limits<Index>::max()));
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
    // The calling thread is one of the device's threads (parallel.hpp).
    : pool(make_thread_pool(std::max(threads - 1, 1))),
      device(pool.get(), threads),
      inline_device(pool.get(), 1) {}

std::shared_ptr<const ComputeContext> compute_context() {
  ContextHolder& holder = context_holder();
  std::lock_guard<std::mutex> lock(holder.mutex);
  if (!holder.context) {
    const int chosen = chosen_threads.load();
    holder.context =
        std::make_shared<const ComputeContext>(chosen > 0 ? chosen : available_cores());
  }
  return holder.context;
}

bool within_memory_budget(std::uint64_t bytes) {
  return bytes <= largest_allocation && bytes <= memory_budget.load();
}

void raise_memory_error(std::uint64_t bytes, const std::string& what, const std::string& hint) {
  const std::uint64_t budget = memory_budget.load();
  std::string message;
  if (bytes > largest_allocation) {
    message =
        what + " needs an estimated " + format_bytes(bytes) + ", more than any allocation can hold";
  } else {
    message = what + " needs an estimated " + format_bytes(bytes) +
              ", more than the memory budget of " + format_bytes(budget) +
              "; raise it with eigen_autodiff.set_memory_budget(bytes)" +
              (hint.empty() ? "" : " or " + hint);
  }
  PyErr_SetString(PyExc_MemoryError, message.c_str());
  throw py::error_already_set();
}

void register_runtime(py::module_& m) {
  m.def(
      "set_num_threads",
      [](int threads) {
        if (threads < 1 || threads > max_threads) {
          throw py::value_error("set_num_threads: n must be at least 1 and at most " +
                                std::to_string(max_threads) + ", got " + std::to_string(threads));
        }
        std::shared_ptr<const ComputeContext> previous;
        {
          // Starting (and joining) hundreds of threads takes a while; other Python threads run.
          py::gil_scoped_release release;
          std::shared_ptr<const ComputeContext> fresh;
          try {
            fresh = std::make_shared<const ComputeContext>(threads);
          } catch (const std::runtime_error& error) {
            throw std::runtime_error("set_num_threads(" + std::to_string(threads) + "): " +
                                     error.what() + "; the previous number of threads is kept");
          }
          ContextHolder& holder = context_holder();
          {
            std::lock_guard<std::mutex> lock(holder.mutex);
            previous = std::exchange(holder.context, std::move(fresh));
            chosen_threads = threads;
          }
          // Joins the previous pool's threads, unless a computation still holds it.
          previous.reset();
        }
      },
      py::arg("n"), R"doc(Use n threads for the computations that follow.

A call computes in its own thread and n - 1 threads of a pool that every call, from any
Python thread, shares; when several calls run at once, only one of their threads computes
besides the pool's, so never more than n threads compute in all (small calls aside, which
compute in their own thread alone). Results are the same bits for any n (tested for the
reverse and forward modes, vjp, jvp and forward on 1, 2, 8 and 16 threads): products are split
into blocks whose edges fall on Eigen's micro-kernel panels, and the elementwise work into
fixed blocks. Calls of under 2**14 multiply-adds keep the GIL.

Example:
    >>> import eigen_autodiff as ead
    >>> previous = ead.get_num_threads()
    >>> ead.set_num_threads(2)
    >>> ead.get_num_threads()
    2
    >>> ead.set_num_threads(previous)
)doc");
  m.def(
      "get_num_threads", [] { return compute_context()->device.numThreads(); },
      "The number of threads computations run on.");
  m.def(
      "set_memory_budget", [](std::uint64_t bytes) { memory_budget.store(bytes); },
      py::arg("bytes"), R"doc(Largest estimated working memory a request may ask for.

A request whose estimate exceeds it raises MemoryError before allocating anything.

Example:
    >>> import numpy as np, eigen_autodiff as ead
    >>> previous = ead.get_memory_budget()
    >>> ead.set_memory_budget(1000)
    >>> ead.forward(np.ones((100, 10)), np.ones((10, 10)), "sin")
    Traceback (most recent call last):
    ...
    MemoryError: the layer's values on X (100, 10) and W (10, 10) needs an estimated 8000 bytes ...
    >>> ead.set_memory_budget(previous)
)doc");
  m.def(
      "get_memory_budget", [] { return memory_budget.load(); },
      "Largest estimated working memory a request may ask for, in bytes.");
  // The estimates of memory_estimates.hpp, which the facade checks before it makes contiguous
  // copies of its inputs.
  m.def(
      "layer_values_bytes",
      [](const std::string& dtype, Index batch, Index outputs) {
        check_dimensions({batch, outputs});
        return with_dtype(dtype,
                          [&](auto t) { return layer_values_bytes<decltype(t)>(batch, outputs); });
      },
      py::arg("dtype"), py::arg("batch"), py::arg("outputs"),
      "Estimated bytes layer_values allocates.");
  m.def(
      "value_and_grad_bytes",
      [](Mode mode, const std::string& dtype, Index batch, Index inputs, Index outputs, bool wrt_x,
         bool wrt_w, bool wrt_b) {
        check_dimensions({batch, inputs, outputs});
        return with_dtype(dtype, [&](auto t) {
          return value_and_grad_bytes<decltype(t)>(mode, batch, inputs, outputs,
                                                   {wrt_x, wrt_w, wrt_b});
        });
      },
      py::arg("mode"), py::arg("dtype"), py::arg("batch"), py::arg("inputs"), py::arg("outputs"),
      py::arg("wrt_x"), py::arg("wrt_w"), py::arg("wrt_b"),
      "Estimated bytes layer_value_and_grad allocates.");
  m.def(
      "vjp_bytes",
      [](const std::string& dtype, Index batch, Index inputs, Index outputs, bool wrt_x, bool wrt_w,
         bool wrt_b) {
        check_dimensions({batch, inputs, outputs});
        return with_dtype(dtype, [&](auto t) {
          return reverse_bytes<decltype(t)>(batch, inputs, outputs, {wrt_x, wrt_w, wrt_b});
        });
      },
      py::arg("dtype"), py::arg("batch"), py::arg("inputs"), py::arg("outputs"), py::arg("wrt_x"),
      py::arg("wrt_w"), py::arg("wrt_b"), "Estimated bytes layer_vjp allocates.");
  m.def(
      "jvp_bytes",
      [](const std::string& dtype, Index batch, Index outputs) {
        check_dimensions({batch, outputs});
        return with_dtype(dtype, [&](auto t) { return jvp_bytes<decltype(t)>(batch, outputs); });
      },
      py::arg("dtype"), py::arg("batch"), py::arg("outputs"),
      "Estimated bytes layer_jvp allocates.");
  // The estimates whose size is that of one parameter, named by wrt.
  const auto define_parameter_bytes = [&m](const char* name, auto bytes, const char* doc) {
    m.def(
        name,
        [bytes](const std::string& dtype, Index batch, Index inputs, Index outputs,
                const std::string& wrt) {
          check_dimensions({batch, inputs, outputs});
          const Index size = parameter_entries(wrt, batch, inputs, outputs);
          return with_dtype(dtype, [&](auto t) { return bytes(t, batch, outputs, size); });
        },
        py::arg("dtype"), py::arg("batch"), py::arg("inputs"), py::arg("outputs"), py::arg("wrt"),
        doc);
  };
  define_parameter_bytes(
      "jacobian_bytes",
      [](auto t, Index b, Index m, Index size) { return jacobian_bytes<decltype(t)>(b, m, size); },
      "Estimated bytes layer_jacobian allocates.");
  define_parameter_bytes(
      "hvp_bytes",
      [](auto t, Index b, Index m, Index size) { return hvp_bytes<decltype(t)>(b, m, size); },
      "Estimated bytes layer_hvp allocates.");
  define_parameter_bytes(
      "hessian_bytes",
      [](auto t, Index b, Index m, Index size) { return hessian_bytes<decltype(t)>(b, m, size); },
      "Estimated bytes layer_hessian allocates.");
  m.def(
      "vjp_of_vjp_bytes",
      [](const std::string& dtype, Index batch, Index inputs, Index outputs, bool wrt_x, bool wrt_w,
         bool wrt_b) {
        check_dimensions({batch, inputs, outputs});
        return with_dtype(dtype, [&](auto t) {
          return vjp_of_vjp_bytes<decltype(t)>(batch, inputs, outputs, {wrt_x, wrt_w, wrt_b});
        });
      },
      py::arg("dtype"), py::arg("batch"), py::arg("inputs"), py::arg("outputs"), py::arg("wrt_x"),
      py::arg("wrt_w"), py::arg("wrt_b"), "Estimated bytes layer_vjp_of_vjp allocates.");
  m.def(
      "elementwise_bytes",
      [](const std::string& dtype, Index n) {
        check_dimensions({n});
        return with_dtype(dtype, [&](auto t) { return elementwise_bytes<decltype(t)>(n); });
      },
      py::arg("dtype"), py::arg("n"),
      "Estimated bytes activation_value_and_derivative allocates for n entries.");
  m.def(
      "check_memory_budget",
      [](std::uint64_t bytes, const std::string& what, const std::string& hint) {
        check_memory_budget(bytes, what, hint);
      },
      py::arg("bytes"), py::arg("what"), py::arg("hint") = "",
      "Raises MemoryError, naming `what`, when `bytes` exceeds the memory budget.");

  main_thread_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  set_interrupt_check(&check_for_signals);
  // Registered once per process: the module is never unloaded.
  pthread_atfork(&lock_context_before_fork, &unlock_context_in_parent, &reset_context_in_child);
}

}  // namespace eigen_autodiff::bindings
