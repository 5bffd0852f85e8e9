// Work split into fixed tasks, run by the calling thread and the threads of Eigen's pool.
//
// The calling thread computes too, as an OpenMP team's first thread does: measured here, a
// gradient of 256x512x256 float32 spent a quarter of its median time waiting for the pool's
// threads to wake while the calling thread only waited.
//
// An exception escaping a task of Eigen's pool ends the process (std::terminate in the worker
// thread), and one escaping parallelFor in the calling thread leaves the other tasks running on
// its freed stack. So every task runs inside a catch-all: the first exception of a computation
// is kept, the tasks not yet started are skipped (those running stop at their next cancellation
// point), and it is rethrown in the calling thread once every task has finished. The calling
// thread checks for interrupts between its tasks and while it waits (interrupts.hpp).
//
// Elementwise blocks do not depend on the number of threads, so reductions over them are
// reproducible.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

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
  // In the calling thread, after every task has finished. The failure moves out, so that it is
  // destroyed in this thread, not in a pool thread that drops the tasks later: the interrupt
  // check's exception takes Python's GIL in its destructor.
  void rethrow_if_any() {
    if (std::exception_ptr failure = std::exchange(failure_, nullptr)) {
      std::rethrow_exception(failure);
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

// Set while this thread runs tasks of a parallel_for: a parallel_for inside a task runs inline,
// since waiting there for the pool's threads, busy with the outer one, could deadlock.
inline bool& running_tasks() {
  thread_local bool running = false;
  return running;
}

class RunningTasksScope {
 public:
  RunningTasksScope() : saved_(running_tasks()) { running_tasks() = true; }
  ~RunningTasksScope() { running_tasks() = saved_; }
  RunningTasksScope(const RunningTasksScope&) = delete;
  RunningTasksScope& operator=(const RunningTasksScope&) = delete;

 private:
  bool saved_;
};

// Held by the one calling thread that computes alongside the pool. Never destroyed, as spinners().
inline std::mutex& computing_caller() {
  static auto* caller = new std::mutex;
  return *caller;
}

// Pool threads that have run tasks wait a little, spinning, for the next parallel_for before
// going back to sleep in the pool: waking a sleeping thread took 25-40 us measured on this
// project's machines (16 of them in the waking thread), against a few hundred for one product of
// a gradient, whose products and elementwise passes follow one another. A thread takes only the
// jobs offered to its own pool, so a pool being replaced (set_num_threads) lets its threads go.
class Spinners {
 public:
  using Pool = const Eigen::ThreadPoolInterface*;
  static constexpr std::chrono::microseconds spin_time{100};

  // In the calling thread: offers job to the pool's threads. False when no spinning thread is
  // left to take it: the caller then wakes one of the pool's (which runs run_jobs).
  bool offer(Pool pool, std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool taken_soon = idle(pool) > waiting(pool);
    jobs_.push_back({pool, std::move(job)});
    waiting_jobs_.store(static_cast<int>(jobs_.size()));
    return taken_soon;
  }

  // In a thread of pool: runs the jobs offered to it until none comes for spin_time.
  void run_jobs(Pool pool) {
    for (;;) {
      std::function<void()> job;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        job = take(pool);
        if (!job) {
          ++idle(pool);
        }
      }
      if (!job) {
        job = wait_for_job(pool);
        if (!job) {
          return;
        }
      }
      job();
    }
  }

  // Around fork(): the child has none of the pools' threads.
  void lock_before_fork() { mutex_.lock(); }
  void unlock_after_fork(bool in_child) {
    if (in_child) {
      idle_.clear();
      jobs_.clear();
      waiting_jobs_.store(0);
    }
    mutex_.unlock();
  }

 private:
  struct Job {
    Pool pool;
    std::function<void()> run;
  };

  // Spins until a job comes (taking it) or spin_time has passed (leaving the idle count).
  std::function<void()> wait_for_job(Pool pool) {
    const auto deadline = std::chrono::steady_clock::now() + spin_time;
    for (;;) {
      const bool late = std::chrono::steady_clock::now() >= deadline;
      if (late || waiting_jobs_.load() > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::function<void()> job = take(pool);
        if (job || late) {
          leave_idle(pool);
          return job;
        }
      }
      std::this_thread::yield();
    }
  }

  // With mutex_ held.
  std::function<void()> take(Pool pool) {
    for (auto job = jobs_.begin(); job != jobs_.end(); ++job) {
      if (job->pool == pool) {
        std::function<void()> run = std::move(job->run);
        jobs_.erase(job);
        waiting_jobs_.store(static_cast<int>(jobs_.size()));
        return run;
      }
    }
    return {};
  }
  int& idle(Pool pool) {
    for (auto& [spinning_pool, count] : idle_) {
      if (spinning_pool == pool) {
        return count;
      }
    }
    return idle_.emplace_back(pool, 0).second;
  }
  // The entry of a pool goes with its last spinning thread, so replaced pools leave none behind.
  void leave_idle(Pool pool) {
    const auto entry = std::find_if(idle_.begin(), idle_.end(), [pool](const auto& spinning) {
      return spinning.first == pool;
    });
    if (--entry->second == 0) {
      idle_.erase(entry);
    }
  }
  int waiting(Pool pool) const {
    return static_cast<int>(std::count_if(jobs_.begin(), jobs_.end(),
                                          [pool](const Job& job) { return job.pool == pool; }));
  }

  std::mutex mutex_;
  std::vector<std::pair<Pool, int>> idle_;  // per pool, its spinning threads without a job
  std::vector<Job> jobs_;
  std::atomic<int> waiting_jobs_{0};
};

// Never destroyed: pool threads may still be spinning while the process's statics are destroyed
// at exit (the bindings' pool is never destroyed either).
inline Spinners& spinners() {
  static auto* instance = new Spinners;
  return *instance;
}

// One parallel_for's tasks, claimed by the calling thread and the pool's threads.
// Held by shared_ptr: a pool thread may start after the call has returned, and then finds no
// task left (fn is never called after the last task has been claimed).
template <typename Fn>
class SharedTasks {
 public:
  // Tasks are claimed `grain` at a time: about 16 claims per thread, so that many cheap tasks (a
  // row each) do not cost a claim each, while a late thread still leaves its share to others.
  SharedTasks(Index n, Index threads, Fn& fn)
      : n_(n), grain_(std::max<Index>(1, n / (16 * threads))), fn_(&fn) {}

  FirstFailure failure;

  // Runs tasks until none is left.
  void help() {
    running_.fetch_add(1);
    RunningTasksScope scope;
    for (Index t = next_.fetch_add(grain_); t < n_; t = next_.fetch_add(grain_)) {
      run_tasks(failure, t, std::min(n_, t + grain_), *fn_);
    }
    if (running_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.notify_all();
    }
  }

  // In the calling thread, once every task has been claimed: waits for the tasks still running,
  // checking for interrupts (which stop the others at their next cancellation point).
  void wait_for_helpers() {
    // next_ first: a helper counts itself running before it claims, so once every task is seen
    // claimed, running_ includes whoever claimed the last ones.
    const auto finished = [this] { return next_.load() >= n_ && running_.load() == 0; };
    std::unique_lock<std::mutex> lock(mutex_);
    while (!finished()) {
      finished_.wait_for(lock, interrupt_check_interval);
      if (!finished() && !failure.failed()) {
        lock.unlock();
        try {
          cancellation_point();
        } catch (...) {
          failure.record(std::current_exception());
        }
        lock.lock();
      }
    }
  }

 private:
  const Index n_;
  const Index grain_;
  Fn* const fn_;
  std::atomic<Index> next_{0};
  std::atomic<int> running_{0};
  std::mutex mutex_;
  std::condition_variable finished_;
};

}  // namespace detail

// Calls fn(t) for every t in [0, n): in the calling thread alone, or claimed a few at a time by
// the calling thread and numThreads() - 1 of the pool's threads, so that a late thread leaves its
// share to the others. An exception from any task reaches the caller.
template <typename Fn>
void parallel_for(const Eigen::DefaultDevice&, Index n, Fn&& fn) {
  for (Index t = 0; t < n; ++t) {
    cancellation_point();
    fn(t);
  }
}

template <typename Fn>
void parallel_for(const Eigen::ThreadPoolDevice& device, Index n, Fn&& fn) {
  using Tasks = detail::SharedTasks<std::remove_reference_t<Fn>>;
  if (n <= 1 || device.numThreads() <= 1 || detail::running_tasks()) {
    detail::FirstFailure failure;
    detail::run_tasks(failure, 0, n, fn);
    failure.rethrow_if_any();
    return;
  }
  const auto tasks = std::make_shared<Tasks>(n, device.numThreads(), fn);
  // The device's threads are the calling thread and numThreads() - 1 of the pool's (a pool of that
  // many threads is enough); at most one calling thread computes at a time, so that all callers
  // together never exceed that count.
  std::unique_lock<std::mutex> computing(detail::computing_caller(), std::try_to_lock);
  const Index helpers = std::min<Index>(n - (computing ? 1 : 0), device.numThreads() - 1);
  const detail::Spinners::Pool pool = device.getPool();
  for (Index h = 0; h < helpers; ++h) {
    if (!detail::spinners().offer(pool, [tasks] { tasks->help(); })) {
      device.enqueueNoNotification([pool] { detail::spinners().run_jobs(pool); });
    }
  }
  if (computing) {
    tasks->help();
    computing.unlock();
  }
  tasks->wait_for_helpers();
  tasks->failure.rethrow_if_any();
}

// Calls fn(block, first, last) for every block of [0, n).
template <typename Device, typename Fn>
void for_each_block(const Device& device, Index n, Fn&& fn) {
  // Each block is a few thousand transcendental evaluations: worth a task of its own.
  parallel_for(device, block_count(n), [&](Index block) {
    fn(block, block * elementwise_block_size, std::min(n, (block + 1) * elementwise_block_size));
  });
}

}  // namespace eigen_autodiff
