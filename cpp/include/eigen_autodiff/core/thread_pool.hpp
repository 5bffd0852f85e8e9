// Eigen's thread pool, started so that a failure to start a thread is an exception rather than a
// hang.
//
// Eigen::ThreadPool starts its threads one by one in its constructor. When one cannot be started
// (std::system_error: no memory for its stack, a thread limit), the exception unwinds the
// constructor, whose members join the threads already started; those wait for work in the pool's
// loop, which is never told to end, so the join waits forever. Here every thread is started
// first, waiting on a condition of its own; only when all of them run is the pool built, and it
// hands each one its loop. If one cannot be started, the others are told to end and joined, and
// std::runtime_error names the failure.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

namespace detail {

// A thread started ahead of the pool, waiting to be given its function or to be told to end.
// It is what Eigen's pool holds for each of its threads, and joins its thread when destroyed.
class StartedThread {
 public:
  StartedThread() = default;
  StartedThread(const StartedThread&) = delete;
  StartedThread& operator=(const StartedThread&) = delete;
  ~StartedThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = true;
      ready_.notify_one();
    }
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  // Throws std::system_error when the thread cannot be started.
  void start() {
    thread_ = std::thread([this] {
      std::function<void()> work;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return given_ || cancelled_; });
        if (!given_) {
          return;
        }
        work = std::move(work_);
      }
      work();
    });
  }

  void give(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mutex_);
    work_ = std::move(work);
    given_ = true;
    ready_.notify_one();
  }

  // Called by Eigen's pool when it is cancelled.
  void OnCancel() {}

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::function<void()> work_;
  bool given_ = false;
  bool cancelled_ = false;
};

// All the pool's threads, started before the pool is built.
class StartedThreads {
 public:
  explicit StartedThreads(int count) {
    threads_.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      threads_.push_back(std::make_unique<StartedThread>());
    }
    for (int i = 0; i < count; ++i) {
      try {
        threads_[static_cast<std::size_t>(i)]->start();
      } catch (const std::system_error& error) {
        threads_.clear();  // ends and joins the threads started
        throw std::runtime_error("cannot start thread " + std::to_string(i + 1) + " of " +
                                 std::to_string(count) + ": " + error.what());
      }
    }
  }

  // The next thread, now running f; its owner joins it by destroying it. Cannot fail: the thread
  // exists already.
  StartedThread* hand_out(std::function<void()> f) {
    StartedThread* thread = threads_[next_++].release();
    thread->give(std::move(f));
    return thread;
  }

 private:
  std::vector<std::unique_ptr<StartedThread>> threads_;
  std::size_t next_ = 0;
};

// Eigen's thread environment (after Eigen's StlThreadEnvironment), drawing on started threads.
struct StartedThreadEnvironment {
  struct Task {
    std::function<void()> f;
  };
  using EnvThread = StartedThread;

  std::shared_ptr<StartedThreads> threads;

  EnvThread* CreateThread(std::function<void()> f) { return threads->hand_out(std::move(f)); }
  Task CreateTask(std::function<void()> f) { return Task{std::move(f)}; }
  void ExecuteTask(const Task& t) { t.f(); }
};

}  // namespace detail

using ThreadPool = Eigen::ThreadPoolTempl<detail::StartedThreadEnvironment>;

// A pool of `threads` threads; std::runtime_error (and no thread left behind) when one of them
// cannot be started.
inline std::unique_ptr<ThreadPool> make_thread_pool(int threads) {
  auto started = std::make_shared<detail::StartedThreads>(threads);
  return std::make_unique<ThreadPool>(threads,
                                      detail::StartedThreadEnvironment{std::move(started)});
}

}  // namespace eigen_autodiff
