// Work buffers that the calling thread keeps for its next call. A buffer of a few MiB (B x M
// values of dL/dZ, say) comes back from the system as fresh pages on every call, once glibc has
// returned the freed block: measured, their page faults took half of an hvp at 1024x16x1024
// float32 and a tenth of a 1024^3 float64 gradient. Each thread keeps, for each scalar type, at
// most kept_scratch_blocks of them and kept_scratch_bytes in all; the smallest leave first, and a
// larger one is freed at once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "eigen_autodiff/core/eigen_setup.hpp"

namespace eigen_autodiff {

inline constexpr std::size_t kept_scratch_bytes = std::size_t{32} << 20;
inline constexpr std::size_t kept_scratch_blocks = 16;

// size values of T, uninitialised, taken from the calling thread's kept blocks where one is large
// enough and given back to them at the end of its scope. Aligned for Eigen's largest packet:
// Eigen's vectorised loops handle the entries before the first aligned address one at a time, and
// those are rounded differently (no fused multiply-add), so in a buffer of varying alignment the
// same product could differ in the last bit from one call to the next.
template <typename T>
class ScratchBuffer {
 public:
  explicit ScratchBuffer(std::size_t size) : size_(size) {
    std::vector<Block>& kept = kept_blocks();
    const auto fits = std::find_if(kept.begin(), kept.end(),
                                   [size](const Block& block) { return block.capacity >= size; });
    if (fits != kept.end()) {
      block_ = std::move(*fits);
      kept.erase(fits);
    } else {
      block_.memory.reset(Eigen::internal::aligned_malloc(size * sizeof(T)));
      block_.capacity = size;
    }
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() {
    if (block_.capacity * sizeof(T) > kept_scratch_bytes) {
      return;
    }
    // Smallest first: the constructor takes the smallest that fits, and the smallest leave first
    // when over the limits.
    std::vector<Block>& kept = kept_blocks();
    kept.insert(std::find_if(kept.begin(), kept.end(),
                             [this](const Block& b) { return b.capacity >= block_.capacity; }),
                std::move(block_));
    std::size_t bytes = kept_bytes();
    while (kept.size() > kept_scratch_blocks || bytes > kept_scratch_bytes) {
      bytes -= kept.front().capacity * sizeof(T);
      kept.erase(kept.begin());
    }
  }

  // The bytes the calling thread keeps for T.
  static std::size_t kept_bytes() {
    std::size_t bytes = 0;
    for (const Block& b : kept_blocks()) {
      bytes += b.capacity * sizeof(T);
    }
    return bytes;
  }

  T* data() const { return static_cast<T*>(block_.memory.get()); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t k) const { return data()[k]; }

 private:
  struct Free {
    void operator()(void* memory) const { Eigen::internal::aligned_free(memory); }
  };
  struct Block {
    std::unique_ptr<void, Free> memory;
    std::size_t capacity = 0;
  };

  // Room for one more than the limit, so that giving a block back, in a destructor, never
  // allocates.
  static std::vector<Block>& kept_blocks() {
    thread_local std::vector<Block> kept = [] {
      std::vector<Block> blocks;
      blocks.reserve(kept_scratch_blocks + 1);
      return blocks;
    }();
    return kept;
  }

  Block block_;
  std::size_t size_;
};

}  // namespace eigen_autodiff
