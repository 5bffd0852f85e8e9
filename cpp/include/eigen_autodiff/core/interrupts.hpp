// Stopping long computations early: when the user interrupts (Ctrl-C in Python), and when one
// task of a parallel computation has failed so that the others' work would be thrown away.
//
// The core knows nothing of Python. A caller that wants interruptible computations installs an
// interrupt check (set_interrupt_check), a function that throws to stop the computation, and
// opens an InterruptScope in the thread that runs the computation. The core then calls the check
// at its cancellation points (between blocks of work), at most every interrupt_check_interval,
// and only in that thread: never in the pool's worker threads, which merely stop early once the
// computation has failed.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>

namespace eigen_autodiff {

// Time between two interrupt checks in the thread running a computation: short against the
// half second a user may wait after Ctrl-C, long against the cost of one check.
inline constexpr std::chrono::milliseconds interrupt_check_interval{20};

// Throws (any exception) to stop the computation in progress.
using InterruptCheck = void (*)();

namespace detail {

inline std::atomic<InterruptCheck>& interrupt_check_slot() {
  static std::atomic<InterruptCheck> check{nullptr};
  return check;
}

struct InterruptState {
  // Inside an InterruptScope: this thread may run the interrupt check.
  bool scoped = false;
  std::chrono::steady_clock::time_point next_check{};
  // Set while this thread runs a task of a parallel computation: its "stop" flag.
  const std::atomic<bool>* stop = nullptr;
};

inline InterruptState& interrupt_state() {
  thread_local InterruptState state;
  return state;
}

// Thrown at a cancellation point of a task whose computation has already failed elsewhere; the
// first failure, not this, reaches the caller.
struct stopped_early {};

}  // namespace detail

inline void set_interrupt_check(InterruptCheck check) { detail::interrupt_check_slot() = check; }

// The calling thread's computations check for interrupts while the scope lasts; the first check
// comes one interval after it opens, so short calls never pay for one.
class InterruptScope {
 public:
  InterruptScope() : saved_(detail::interrupt_state()) {
    detail::InterruptState& state = detail::interrupt_state();
    state.scoped = true;
    state.next_check = std::chrono::steady_clock::now() + interrupt_check_interval;
  }
  ~InterruptScope() { detail::interrupt_state() = saved_; }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  detail::InterruptState saved_;
};

// A cancellation point: returns quickly unless the computation is to stop, in which case it
// throws (the interrupt check's exception, or detail::stopped_early in a task of a computation
// that has failed).
inline void cancellation_point() {
  detail::InterruptState& state = detail::interrupt_state();
  if (state.stop != nullptr && state.stop->load(std::memory_order_relaxed)) {
    throw detail::stopped_early{};
  }
  if (!state.scoped) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < state.next_check) {
    return;
  }
  state.next_check = now + interrupt_check_interval;
  if (const InterruptCheck check = detail::interrupt_check_slot().load()) {
    check();
  }
}

}  // namespace eigen_autodiff
