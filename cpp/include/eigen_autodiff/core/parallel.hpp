// Work split into independent tasks, run on Eigen's thread pool or in the calling thread. The
// split never depends on the number of threads, so reductions over the tasks are reproducible.
#pragma once

#include <algorithm>
#include <type_traits>

#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

// Calls fn(task) for every task in [0, tasks): in the calling thread on the DefaultDevice, spread
// over the pool on a ThreadPoolDevice. cost_per_task (in Eigen's cost units, roughly cycles) tells
// Eigen how finely it is worth splitting.
template <typename Device, typename Fn>
void parallel_for(const Device& device, Index tasks, double cost_per_task, Fn&& fn) {
  if constexpr (std::is_same<Device, Eigen::ThreadPoolDevice>::value) {
    if (tasks > 1) {
      device.parallelFor(tasks, Eigen::TensorOpCost(0, 0, cost_per_task),
                         [&](Index first, Index last) {
                           for (Index task = first; task < last; ++task) {
                             fn(task);
                           }
                         });
      return;
    }
  }
  static_cast<void>(device);
  static_cast<void>(cost_per_task);
  for (Index task = 0; task < tasks; ++task) {
    fn(task);
  }
}

inline constexpr Index elementwise_block_size = 4096;

inline Index block_count(Index n) {
  return (n + elementwise_block_size - 1) / elementwise_block_size;
}

// Calls fn(block, first, last) for every block of elementwise_block_size entries of [0, n).
template <typename Device, typename Fn>
void for_each_block(const Device& device, Index n, Fn&& fn) {
  // Each block is a few thousand transcendental evaluations: worth a task of its own.
  parallel_for(device, block_count(n), 1e5, [&](Index block) {
    fn(block, block * elementwise_block_size, std::min(n, (block + 1) * elementwise_block_size));
  });
}

}  // namespace eigen_autodiff
