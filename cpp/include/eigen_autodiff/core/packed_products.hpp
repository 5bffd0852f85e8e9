// Products beyond small_product_max_multiply_adds: C = A . B with both operands copied into
// packed panels sized for the caches, in the loop order of Goto's algorithm (BLIS), and a
// micro-kernel that keeps a tile of packed_tile_rows x 2 packets of C in registers.
//
// Why not Eigen's GEMM: measured on this project's AMD EPYC (Zen 5), built for x86-64-v4 like
// the module's AVX-512 copy, one 1024^3 product on one core (best of 10) takes 233-259 GFLOP/s
// float32 here and 232-257 in Eigen's GEMM, but 110-115 float64 against 95-98; and built with
// GCC 12's -march=native, which tunes for Zen 3 on that CPU, Eigen's kernel loses a quarter and
// this one a few percent. Built for AVX2 the two are equal.
//
// Each element of C is one sum over k in order, in depth pieces that depend on the depth alone
// (packed_depth), added to C in order: the same bits whatever the rows and columns of C a call
// covers, which is what keeps the products independent of the thread count.
#pragma once

#include <algorithm>

#include "eigen_autodiff/core/lanes.hpp"
#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/core/small_products.hpp"
#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

// At most this much depth per panel: one tile's columns of B, packed_depth_max x 2 packets,
// stay in the first-level cache (32 KiB with AVX-512).
inline constexpr Index packed_depth_max = 256;
// Rows of A per panel (a multiple of every packed_tile_rows): 240 KiB float32 at the full depth,
// in the second-level cache.
inline constexpr Index packed_rows_max = 240;
// Columns of B per panel (a multiple of every tile's columns): 1 MiB float32 at the full depth.
inline constexpr Index packed_cols_max = 1024;

namespace detail {

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

// Rows of C per tile, with 2 packets per row: 24 accumulators with 32 registers, 12 with 16 (a
// tile needs 3 more for B's two packets and A's broadcast). Measured with 3 packets per row
// instead (8 rows, 4 with 16 registers): the same speed.
inline constexpr int packed_tile_rows = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 12 : 6;
template <typename T>
inline constexpr int packed_tile_cols = 2 * Lanes<T>::size;

// The depth of each panel: the fewest pieces of at most packed_depth_max, as even as they go.
inline Index packed_depth(Index depth) {
  return ceil_div(depth, ceil_div(depth, packed_depth_max));
}

// One panel of a row-major A (depth stride 1), `height` <= packed_tile_rows rows: groups of a
// packet's rows transposed in registers (a group's missing rows read as row 0) and stored k by k
// in increasing address order. Where a group has fewer rows than a packet, its store runs past
// them into the next k's place, which the next store overwrites: the panel's buffer needs a
// packet's worth of elements beyond its end.
template <typename T>
void pack_row_major_panel(Index height, Index depth, const T* a, Index row_stride, T* packed) {
  namespace internal = Eigen::internal;
  using Packet = typename Lanes<T>::Packet;
  constexpr int size = Lanes<T>::size;
  constexpr int tile = packed_tile_rows;
  constexpr int groups = (tile + size - 1) / size;
  const Index block_depth = depth / size * size;
  for (Index k = 0; k < block_depth; k += size) {
#if defined(__GNUC__)
// As in transpose_into.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
    internal::PacketBlock<Packet, size> blocks[groups];
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    for (int g = 0; g < groups; ++g) {
      for (int r = 0; r < size; ++r) {
        const Index row = g * size + r < height ? g * size + r : 0;
        blocks[g].packet[r] = internal::ploadu<Packet>(a + row * row_stride + k);
      }
      internal::ptranspose(blocks[g]);
    }
    for (int t = 0; t < size; ++t) {
      for (int g = 0; g < groups; ++g) {
        internal::pstoreu(packed + (k + t) * tile + g * size, blocks[g].packet[t]);
      }
    }
  }
  for (Index k = block_depth; k < depth; ++k) {
    for (Index r = 0; r < height; ++r) {
      packed[k * tile + r] = a[r * row_stride + k];
    }
  }
}

// Rows [0, rows) of A over `depth` as panels of packed_tile_rows rows, each stored k by k; the
// last panel padded with zero rows. A(i, k) = a[i * row_stride + k * depth_stride]. `packed`
// has a packet's worth of elements beyond the panels (see pack_row_major_panel).
template <typename T>
void pack_rows(Index rows, Index depth, const T* a, Index row_stride, Index depth_stride,
               T* packed) {
  constexpr int tile = packed_tile_rows;
  for (Index i = 0; i < rows; i += tile, packed += depth * tile) {
    const Index height = std::min<Index>(tile, rows - i);
    if (depth_stride == 1) {
      pack_row_major_panel(height, depth, a + i * row_stride, row_stride, packed);
    } else {
      for (Index k = 0; k < depth; ++k) {
        for (Index r = 0; r < height; ++r) {
          packed[k * tile + r] = a[(i + r) * row_stride + k * depth_stride];
        }
      }
    }
    for (Index k = 0; height < tile && k < depth; ++k) {
      std::fill(packed + k * tile + height, packed + (k + 1) * tile, T(0));
    }
  }
}

// Columns [0, cols) of B over `depth` as panels of packed_tile_cols columns, each stored k by
// k; the last panel padded with zero columns. B(k, j) = b[k * depth_stride + j * col_stride].
template <typename T>
void pack_cols(Index depth, Index cols, const T* b, Index depth_stride, Index col_stride,
               T* packed) {
  constexpr int tile = packed_tile_cols<T>;
  for (Index j = 0; j < cols; j += tile, packed += depth * tile) {
    const Index width = std::min<Index>(tile, cols - j);
    if (col_stride == 1) {
      for (Index k = 0; k < depth; ++k) {
        std::copy_n(b + k * depth_stride + j, width, packed + k * tile);
      }
    } else if (depth_stride == 1) {
      transpose_into(width, depth, b + j * col_stride, col_stride, packed, Index{tile});
    } else {
      for (Index k = 0; k < depth; ++k) {
        for (Index q = 0; q < width; ++q) {
          packed[k * tile + q] = b[k * depth_stride + (j + q) * col_stride];
        }
      }
    }
    for (Index k = 0; width < tile && k < depth; ++k) {
      std::fill(packed + k * tile + width, packed + (k + 1) * tile, T(0));
    }
  }
}

// One tile of C from a panel of A's rows and one of B's columns: c = sum_k a_k b_k, or
// c += it when `add`.
template <typename T>
EIGEN_ALWAYS_INLINE void packed_tile(Index depth, const T* a, const T* b, T* c, Index c_stride,
                                     bool add) {
  namespace internal = Eigen::internal;
  using Packet = typename Lanes<T>::Packet;
  constexpr int size = Lanes<T>::size;
  constexpr int rows = packed_tile_rows;
  constexpr int packets = packed_tile_cols<T> / size;
  Packet sums[rows][packets];
  for (int r = 0; r < rows; ++r) {
    for (int p = 0; p < packets; ++p) {
      sums[r][p] = internal::pset1<Packet>(T(0));
    }
  }
  for (Index k = 0; k < depth; ++k, a += rows, b += packets * size) {
    Packet b_row[packets];
    for (int p = 0; p < packets; ++p) {
      b_row[p] = internal::ploadu<Packet>(b + p * size);
    }
    for (int r = 0; r < rows; ++r) {
      const Packet a_value = internal::pset1<Packet>(a[r]);
      for (int p = 0; p < packets; ++p) {
        sums[r][p] = internal::pmadd(a_value, b_row[p], sums[r][p]);
      }
    }
  }
  for (int r = 0; r < rows; ++r) {
    for (int p = 0; p < packets; ++p) {
      T* out = c + r * c_stride + p * size;
      internal::pstoreu(
          out, add ? internal::padd(internal::ploadu<Packet>(out), sums[r][p]) : sums[r][p]);
    }
  }
}

}  // namespace detail

// c (rows x cols, row stride c_stride) = A . B, where A(i, k) = a[i * a_row_stride +
// k * a_depth_stride] and B(k, j) = b[k * b_depth_stride + j * b_col_stride]: either operand
// may be transposed.
template <typename T>
void packed_product(Index rows, Index cols, Index depth, const T* a, Index a_row_stride,
                    Index a_depth_stride, const T* b, Index b_depth_stride, Index b_col_stride,
                    T* c, Index c_stride) {
  constexpr int tile_rows = detail::packed_tile_rows;
  constexpr int tile_cols = detail::packed_tile_cols<T>;
  const Index panel_depth = detail::packed_depth(depth);
  const Index panel_rows = std::min(rows, packed_rows_max);
  const Index panel_cols = std::min(cols, packed_cols_max);
  ScratchBuffer<T> packed_a(static_cast<std::size_t>(
      panel_depth * tile_rows * detail::ceil_div(panel_rows, tile_rows) + Lanes<T>::size));
  ScratchBuffer<T> packed_b(
      static_cast<std::size_t>(panel_depth * tile_cols * detail::ceil_div(panel_cols, tile_cols)));
  alignas(EIGEN_MAX_ALIGN_BYTES) T edge[tile_rows * tile_cols];
  for (Index j0 = 0; j0 < cols; j0 += panel_cols) {
    const Index width = std::min(panel_cols, cols - j0);
    for (Index k0 = 0; k0 < depth; k0 += panel_depth) {
      const Index kc = std::min(panel_depth, depth - k0);
      const bool add = k0 > 0;
      detail::pack_cols(kc, width, b + k0 * b_depth_stride + j0 * b_col_stride, b_depth_stride,
                        b_col_stride, packed_b.data());
      for (Index i0 = 0; i0 < rows; i0 += panel_rows) {
        const Index height = std::min(panel_rows, rows - i0);
        detail::pack_rows(height, kc, a + i0 * a_row_stride + k0 * a_depth_stride, a_row_stride,
                          a_depth_stride, packed_a.data());
        for (Index j = 0; j < width; j += tile_cols) {
          const T* b_panel = packed_b.data() + j * kc;
          for (Index i = 0; i < height; i += tile_rows) {
            const T* a_panel = packed_a.data() + i * kc;
            T* c_tile = c + (i0 + i) * c_stride + j0 + j;
            if (i + tile_rows <= height && j + tile_cols <= width) {
              detail::packed_tile(kc, a_panel, b_panel, c_tile, c_stride, add);
              continue;
            }
            // A tile over C's last rows or columns: whole, in a buffer, then its part of C.
            detail::packed_tile(kc, a_panel, b_panel, edge, tile_cols, false);
            const Index edge_rows = std::min<Index>(tile_rows, height - i);
            const Index edge_cols = std::min<Index>(tile_cols, width - j);
            for (Index r = 0; r < edge_rows; ++r) {
              for (Index q = 0; q < edge_cols; ++q) {
                T& out = c_tile[r * c_stride + q];
                out = add ? out + edge[r * tile_cols + q] : edge[r * tile_cols + q];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace eigen_autodiff
