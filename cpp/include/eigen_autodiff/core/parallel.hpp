// Work split into fixed tasks, run on Eigen's thread pool or in the calling thread.
//
// An exception escaping a task of Eigen's pool ends the process (std::terminate in the worker
// thread), and one escaping parallelFor in the calling thread leaves the other tasks running on
// its freed stack. So every task runs inside a catch-all: the first exception of a computation
// is kept, the tasks not yet started are skipped (those running stop at their next cancellation
// point), and it is rethrown in the calling thread once every task has finished. The calling
// thread meanwhile checks for interrupts (interrupts.hpp).
//
// Elementwise blocks do not depend on the number of threads, so reductions over them are
// reproducible.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <type_traits>

#include "eigen_autodiff/core/interrupts.hpp"
#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

inline constexpr Index elementwise_block_size = 4096;

inline Index block_count(Index n) {
  return (n + elementwise_block_size - 1) / elementwise_block_size;
}

namespace detail {

// The first exception thrown by the tasks of one computation.
class FirstFailure {
 public:
  void record(std::exception_ptr failure) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_) {
      failure_ = std::move(failure);
    }
    stop_.store(true, std::memory_order_relaxed);
  }
  bool failed() const { return stop_.load(std::memory_order_relaxed); }
  const std::atomic<bool>& stop_flag() const { return stop_; }
  // In the calling thread, after every task has finished.
  void rethrow_if_any() {
    if (failure_) {
      std::rethrow_exception(failure_);
    }
  }

 private:
  std::mutex mutex_;
  std::exception_ptr failure_;
  std::atomic<bool> stop_{false};
};

// Runs fn(t) for t in [first, last) on behalf of a computation: stops at the first failure (its
// own or another task's) and records it instead of letting it escape.
template <typename Fn>
void run_tasks(FirstFailure& failure, Index first, Index last, Fn& fn) {
  InterruptState& state = interrupt_state();
  const std::atomic<bool>* const outer_stop = state.stop;
  state.stop = &failure.stop_flag();
  for (Index t = first; t < last && !failure.failed(); ++t) {
    try {
      cancellation_point();
      fn(t);
    } catch (const stopped_early&) {
      // Another task failed first; its exception is the one recorded.
    } catch (...) {
      failure.record(std::current_exception());
    }
  }
  state.stop = outer_stop;
}

}  // namespace detail

// Calls fn(t) for every t in [0, n): in the calling thread, or as tasks on the device's pool that
// each cost about cost_per_task operations. An exception from any task reaches the caller.
template <typename Fn>
void parallel_for(const Eigen::DefaultDevice&, Index n, double, Fn&& fn) {
  for (Index t = 0; t < n; ++t) {
    cancellation_point();
    fn(t);
  }
}

template <typename Fn>
void parallel_for(const Eigen::ThreadPoolDevice& device, Index n, double cost_per_task, Fn&& fn) {
  detail::FirstFailure failure;
  const auto run = [&failure, &fn](Index first, Index last) {
    detail::run_tasks(failure, first, last, fn);
  };
  if (n <= 1 || device.numThreads() <= 1) {
    run(0, n);
    failure.rethrow_if_any();
    return;
  }
  // Not parallelFor, which would block this thread until the end: this thread waits on its own,
  // checking for interrupts in between, and tells the tasks to stop when one arrives.
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  device.parallelForAsync(n, Eigen::TensorOpCost(0, 0, cost_per_task), run, [&] {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    finished.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  while (!done) {
    finished.wait_for(lock, interrupt_check_interval);
    if (!done && !failure.failed()) {
      lock.unlock();
      try {
        cancellation_point();
      } catch (...) {
        failure.record(std::current_exception());
      }
      lock.lock();
    }
  }
  lock.unlock();
  failure.rethrow_if_any();
}

// Calls fn(block, first, last) for every block of [0, n).
template <typename Device, typename Fn>
void for_each_block(const Device& device, Index n, Fn&& fn) {
  // Each block is a few thousand transcendental evaluations: worth a task of its own.
  parallel_for(device, block_count(n), 1e5, [&](Index block) {
    fn(block, block * elementwise_block_size, std::min(n, (block + 1) * elementwise_block_size));
  });
}

}  // namespace eigen_autodiff
