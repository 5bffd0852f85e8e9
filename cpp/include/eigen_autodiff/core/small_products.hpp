// Products small enough for their operands to stay in the first cache levels, C = A . B with a
// row-major C and B, computed in tiles of registers straight from the operands.
//
// Why not Eigen's GEMM there: it packs both operands into panels before every product, and below
// a few hundred thousand multiply-adds the packing and its set-up cost as much as the
// multiply-adds. Measured on this project's machine (AVX-512, one core), the three products of a
// 32x64x32 layer took 4.1 us float32 and 8.3 us float64 through Eigen's GEMM, 2.5 and 5.6 us here.
// The tiles are Eigen's packet math, so each instruction set gets its own widths.
#pragma once

#include <algorithm>

#include "eigen_autodiff/core/lanes.hpp"
#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

// Up to this many multiply-adds (64x64x64) a product runs here. Measured: faster than Eigen's
// GEMM up to it for both dtypes with AVX-512, AVX2 and SSE2, and not always beyond it (float64
// 64x128x64 with AVX2 lost 6%). It also bounds the buffers: with at least 2 rows and 2 columns
// (fewer is a matrix-vector product, left to Eigen), a transposed B holds at most 2^17 elements,
// and the padded last columns at most 2^16 packets each of B and C (4 MiB with AVX-512).
inline constexpr double small_product_max_multiply_adds = 1 << 18;

namespace detail {

// Rows of C per tile, with 2 packets per row: 16 accumulators with 32 registers, 12 with 16 (a
// tile needs 3 more for B's two packets and A's broadcast).
inline constexpr int small_product_tile_rows = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 6;

// One tile, Rows x Packets packets of C: c(i, :) = sum_k A(i, k) b(k, :), with
// A(i, k) = a[i * a_row_stride + k * a_depth_stride].
template <typename T, int Rows, int Packets>
EIGEN_ALWAYS_INLINE void product_tile(Index depth, const T* a, Index a_row_stride,
                                      Index a_depth_stride, const T* b, Index b_stride, T* c,
                                      Index c_stride) {
  namespace internal = Eigen::internal;
  using Packet = typename Lanes<T>::Packet;
  constexpr int size = Lanes<T>::size;
  Packet sums[Rows][Packets];
  for (int r = 0; r < Rows; ++r) {
    for (int p = 0; p < Packets; ++p) {
      sums[r][p] = internal::pset1<Packet>(T(0));
    }
  }
  for (Index k = 0; k < depth; ++k) {
    Packet b_row[Packets];
    for (int p = 0; p < Packets; ++p) {
      b_row[p] = internal::ploadu<Packet>(b + k * b_stride + p * size);
    }
    for (int r = 0; r < Rows; ++r) {
      const Packet a_value = internal::pset1<Packet>(a[r * a_row_stride + k * a_depth_stride]);
      for (int p = 0; p < Packets; ++p) {
        sums[r][p] = internal::pmadd(a_value, b_row[p], sums[r][p]);
      }
    }
  }
  for (int r = 0; r < Rows; ++r) {
    for (int p = 0; p < Packets; ++p) {
      internal::pstoreu(c + r * c_stride + p * size, sums[r][p]);
    }
  }
}

// Every row of C for Packets packets of its columns: whole tiles, then tiles of 4, 2 and 1 rows.
template <typename T, int Packets>
void product_columns(Index rows, Index depth, const T* a, Index a_row_stride, Index a_depth_stride,
                     const T* b, Index b_stride, T* c, Index c_stride) {
  const auto tiles = [&](auto tile_rows) {
    constexpr int tile = decltype(tile_rows)::value;
    for (; rows >= tile; rows -= tile, a += tile * a_row_stride, c += tile * c_stride) {
      product_tile<T, tile, Packets>(depth, a, a_row_stride, a_depth_stride, b, b_stride, c,
                                     c_stride);
    }
  };
  tiles(std::integral_constant<int, small_product_tile_rows>());
  tiles(std::integral_constant<int, 4>());
  tiles(std::integral_constant<int, 2>());
  tiles(std::integral_constant<int, 1>());
}

// out (cols x rows, row stride out_stride) = in^T for in (rows x cols, row stride in_stride):
// square blocks of one packet's size transposed in registers, the edges element by element.
template <typename T>
void transpose_into(Index rows, Index cols, const T* in, Index in_stride, T* out,
                    Index out_stride) {
  namespace internal = Eigen::internal;
  using Packet = typename Lanes<T>::Packet;
  constexpr int size = Lanes<T>::size;
  const Index block_rows = rows / size * size;
  const Index block_cols = cols / size * size;
  for (Index i = 0; i < block_rows; i += size) {
    for (Index j = 0; j < block_cols; j += size) {
#if defined(__GNUC__)
// A packet type such as __m512 as a template argument drops its alignment attribute, which GCC
// warns about; PacketBlock only holds packets, and Eigen silences the same warning in its own
// headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
      internal::PacketBlock<Packet, size> block;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
      for (int r = 0; r < size; ++r) {
        block.packet[r] = internal::ploadu<Packet>(in + (i + r) * in_stride + j);
      }
      internal::ptranspose(block);
      for (int r = 0; r < size; ++r) {
        internal::pstoreu(out + (j + r) * out_stride + i, block.packet[r]);
      }
    }
  }
  for (Index i = 0; i < rows; ++i) {
    for (Index j = i < block_rows ? block_cols : 0; j < cols; ++j) {
      out[j * out_stride + i] = in[i * in_stride + j];
    }
  }
}
}  // namespace detail

// c (rows x cols, row stride c_stride) = A . B, where A(i, k) = a[i * a_row_stride +
// k * a_depth_stride] (a row-major A or a transposed one) and B is row-major with row stride
// b_stride. Each element of C is one sum over k in order, whatever the tiles.
template <typename T>
void small_product(Index rows, Index cols, Index depth, const T* a, Index a_row_stride,
                   Index a_depth_stride, const T* b, Index b_stride, T* c, Index c_stride) {
  constexpr int size = Lanes<T>::size;
  Index col = 0;
  for (; col + 2 * size <= cols; col += 2 * size) {
    detail::product_columns<T, 2>(rows, depth, a, a_row_stride, a_depth_stride, b + col, b_stride,
                                  c + col, c_stride);
  }
  for (; col + size <= cols; col += size) {
    detail::product_columns<T, 1>(rows, depth, a, a_row_stride, a_depth_stride, b + col, b_stride,
                                  c + col, c_stride);
  }
  const Index last_cols = cols - col;
  if (last_cols == 0) {
    return;
  }
  // The last columns, fewer than a packet: their part of B padded with zeros to a packet, and
  // C's through a buffer of whole packets.
  ScratchBuffer<T> padded_b(static_cast<std::size_t>(depth * size));
  ScratchBuffer<T> padded_c(static_cast<std::size_t>(rows * size));
  for (Index k = 0; k < depth; ++k) {
    T* row = padded_b.data() + k * size;
    std::fill(std::copy_n(b + k * b_stride + col, last_cols, row), row + size, T(0));
  }
  detail::product_columns<T, 1>(rows, depth, a, a_row_stride, a_depth_stride, padded_b.data(), size,
                                padded_c.data(), size);
  for (Index i = 0; i < rows; ++i) {
    std::copy_n(padded_c.data() + i * size, last_cols, c + i * c_stride + col);
  }
}

}  // namespace eigen_autodiff
