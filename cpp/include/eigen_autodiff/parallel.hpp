// Elementwise work split into fixed blocks, run on Eigen's thread pool or in the calling thread.
// The blocks do not depend on the number of threads, so reductions over them are reproducible.
#pragma once

#include <algorithm>

#include "eigen_autodiff/types.hpp"

namespace eigen_autodiff {

inline constexpr Index elementwise_block_size = 4096;

inline Index block_count(Index n) {
  return (n + elementwise_block_size - 1) / elementwise_block_size;
}

// Calls fn(block, first, last) for every block of [0, n).
template <typename Fn>
void for_each_block(const Eigen::DefaultDevice&, Index n, Fn&& fn) {
  for (Index block = 0; block < block_count(n); ++block) {
    fn(block, block * elementwise_block_size, std::min(n, (block + 1) * elementwise_block_size));
  }
}

template <typename Fn>
void for_each_block(const Eigen::ThreadPoolDevice& device, Index n, Fn&& fn) {
  const Index blocks = block_count(n);
  if (blocks <= 1) {
    for_each_block(Eigen::DefaultDevice(), n, fn);
    return;
  }
  // Each block is a few thousand transcendental evaluations: worth a task of its own.
  device.parallelFor(blocks, Eigen::TensorOpCost(0, 0, 1e5), [&](Index first, Index last) {
    for (Index block = first; block < last; ++block) {
      fn(block, block * elementwise_block_size, std::min(n, (block + 1) * elementwise_block_size));
    }
  });
}

}  // namespace eigen_autodiff
