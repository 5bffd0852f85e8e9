// The three matrix products of the layer, C = op(A) . op(B) on row-major views: the output split
// into a grid of blocks, each one packed_product, that run as tasks on the device's threads; below
// small_product_max_multiply_adds one small_product in the calling thread.
//
// Why a grid of single-threaded products and not the Tensor contraction on the pool: measured on
// this project's 2-core machine, a grid of Eigen's GEMMs ran at the dense GEMM's speed on each
// core (345 GFLOP/s float32 at 1024^3 on both cores, against about 130 for the Tensor
// contraction), and packed_product runs as fast or faster (benchmarks/RESULTS.md). Results do not
// depend on the thread count, since packed_product sums each element in the same order whatever
// block holds it; the edges are aligned for speed only, on whole tiles' columns and on rows that
// keep the blocks even.
#pragma once

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "eigen_autodiff/core/checks.hpp"
#include "eigen_autodiff/core/packed_products.hpp"
#include "eigen_autodiff/core/parallel.hpp"
#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/core/small_products.hpp"

namespace eigen_autodiff {

// Which index of each operand is contracted: A's last and B's first is A.B.
enum class Transpose { none, a, b };

// Where the grid's edges may fall, for speed only (see above): on columns, multiples of every
// packed tile's columns (2 packets of up to 16 floats); on rows, steps small enough to keep the
// blocks even (1024 rows on 16 threads: 64 each).
inline constexpr Index grid_row_alignment = 32;
inline constexpr Index grid_col_alignment = 192;
// Below this many multiply-adds a block is not worth a task of its own (about 10 us on a core).
inline constexpr double block_min_multiply_adds = 1 << 20;
// At most this many multiply-adds per block (a few milliseconds on a core): between blocks the
// computation may stop (Ctrl-C, see interrupts.hpp), within one it cannot.
inline constexpr double block_max_multiply_adds = 1 << 29;

// How the rows x cols output of a product is split: into row_blocks x col_blocks blocks, whose
// edges are given by grid_edge.
struct ProductGrid {
  Index row_blocks;
  Index col_blocks;
};

namespace detail {
// As a double, like the thresholds it is compared with: no shape overflows it.
inline double multiply_adds(Index rows, Index cols, Index inner) {
  return static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(inner);
}

// Eigen's own product picks a matrix-vector product or a coefficient loop for these shapes
// (threshold EIGEN_GEMM_TO_COEFFBASED_THRESHOLD), faster than a GEMM there.
inline bool not_a_gemm(Index rows, Index cols, Index depth) {
  return rows == 1 || cols == 1 || rows + cols + depth < 20;
}
}  // namespace detail

// At least one block per thread when the work allows it (never below block_min_multiply_adds a
// block), more when blocks would exceed block_max_multiply_adds; rows are split before columns,
// since a block of fewer rows repacks only B, and at finer edges.
inline ProductGrid product_grid(Index rows, Index cols, Index inner, Index threads) {
  const double work = detail::multiply_adds(rows, cols, inner);
  const double by_threads = std::min(static_cast<double>(threads), work / block_min_multiply_adds);
  const auto wanted = static_cast<Index>(
      std::max({1.0, std::floor(by_threads), std::ceil(work / block_max_multiply_adds)}));
  const Index row_blocks = std::min(detail::ceil_div(rows, grid_row_alignment), wanted);
  const Index col_blocks =
      std::min(detail::ceil_div(cols, grid_col_alignment), detail::ceil_div(wanted, row_blocks));
  return {row_blocks, col_blocks};
}

// Where block i of `blocks` starts along an extent (block `blocks` starts at the end): on a
// multiple of `alignment`, the blocks as even as that allows, none empty.
inline Index grid_edge(Index i, Index blocks, Index extent, Index alignment) {
  const Index slots = detail::ceil_div(extent, alignment);
  return std::min(extent, alignment * (i * slots / blocks));
}

template <typename T, typename Device>
void contract(const Device& device, ConstMatrixView<T> a, ConstMatrixView<T> b, Transpose op,
              MatrixView<T> c) {
  const Index inner = op == Transpose::a ? a.dimension(0) : a.dimension(1);
  const Index rows = op == Transpose::a ? a.dimension(1) : a.dimension(0);
  const Index cols = op == Transpose::b ? b.dimension(0) : b.dimension(1);
  const Index b_inner = op == Transpose::b ? b.dimension(1) : b.dimension(0);
  if (inner != b_inner || c.dimension(0) != rows || c.dimension(1) != cols) {
    throw std::invalid_argument(
        "contract: operands of shapes " + detail::shape_string(a.dimension(0), a.dimension(1)) +
        " and " + detail::shape_string(b.dimension(0), b.dimension(1)) +
        " do not give a result of shape " + detail::shape_string(c.dimension(0), c.dimension(1)));
  }
  if (c.size() == 0) {
    return;
  }
  if (inner == 0) {
    c.setZero();
    return;
  }
  // Decided by the shape alone, not by each block's, so that the result is the same for any
  // thread count.
  const bool gemm = !detail::not_a_gemm(rows, cols, inner);
  if (gemm && detail::multiply_adds(rows, cols, inner) <= small_product_max_multiply_adds) {
    switch (op) {
      case Transpose::none:
        small_product(rows, cols, inner, a.data(), inner, Index{1}, b.data(), cols, c.data(), cols);
        break;
      case Transpose::a:  // A is inner x rows
        small_product(rows, cols, inner, a.data(), Index{1}, rows, b.data(), cols, c.data(), cols);
        break;
      case Transpose::b: {  // B is cols x inner
        ScratchBuffer<T> b_transposed(static_cast<std::size_t>(inner * cols));
        detail::transpose_into(cols, inner, b.data(), inner, b_transposed.data(), cols);
        small_product(rows, cols, inner, a.data(), inner, Index{1}, b_transposed.data(), cols,
                      c.data(), cols);
        break;
      }
    }
    return;
  }
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Matrix> a_matrix(a.data(), a.dimension(0), a.dimension(1));
  const Eigen::Map<const Matrix> b_matrix(b.data(), b.dimension(0), b.dimension(1));
  Eigen::Map<Matrix> c_matrix(c.data(), rows, cols);
  const ProductGrid grid = product_grid(rows, cols, inner, device.numThreads());
  parallel_for(device, grid.row_blocks * grid.col_blocks, [&](Index block) {
    const Index row_block = block / grid.col_blocks;
    const Index col_block = block % grid.col_blocks;
    const Index r0 = grid_edge(row_block, grid.row_blocks, rows, grid_row_alignment);
    const Index c0 = grid_edge(col_block, grid.col_blocks, cols, grid_col_alignment);
    const Index nr = grid_edge(row_block + 1, grid.row_blocks, rows, grid_row_alignment) - r0;
    const Index nc = grid_edge(col_block + 1, grid.col_blocks, cols, grid_col_alignment) - c0;
    if (gemm) {
      T* res = c.data() + r0 * cols + c0;
      switch (op) {
        case Transpose::none:
          packed_product(nr, nc, inner, a.data() + r0 * inner, inner, Index{1}, b.data() + c0, cols,
                         Index{1}, res, cols);
          break;
        case Transpose::a:  // A is inner x rows
          packed_product(nr, nc, inner, a.data() + r0, Index{1}, rows, b.data() + c0, cols,
                         Index{1}, res, cols);
          break;
        case Transpose::b:  // B is cols x inner
          packed_product(nr, nc, inner, a.data() + r0 * inner, inner, Index{1},
                         b.data() + c0 * inner, Index{1}, inner, res, cols);
          break;
      }
      return;
    }
    auto c_block = c_matrix.block(r0, c0, nr, nc);
    switch (op) {
      case Transpose::none:
        c_block.noalias() = a_matrix.middleRows(r0, nr) * b_matrix.middleCols(c0, nc);
        break;
      case Transpose::a:
        c_block.noalias() = a_matrix.middleCols(r0, nr).transpose() * b_matrix.middleCols(c0, nc);
        break;
      case Transpose::b:
        c_block.noalias() = a_matrix.middleRows(r0, nr) * b_matrix.middleRows(c0, nc).transpose();
        break;
    }
  });
}

// z = x . w, the layer's product.
template <typename T, typename Device>
void contract_into(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                   MatrixView<T> z) {
  check_layer_shapes(x.dimension(0), x.dimension(1), w.dimension(0), w.dimension(1));
  contract(device, x, w, Transpose::none, z);
}

}  // namespace eigen_autodiff
