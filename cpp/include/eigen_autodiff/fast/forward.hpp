// Forward mode that scales: derivatives carried in fixed-size chunks of K
// (AutoDiffScalar<Matrix<T, K, 1>>, no heap allocation per operation), and seed compression
// (Curtis-Powell-Reid) from the layer's structure:
//  - W[i, j] reaches only column j of Z = X.W, so W[i, j] for all j share derivative slot i;
//    the loss is kept per column, L_j = sum_b Y[b, j]^2, and dL/dW[i, j] is slot i of L_j;
//  - X[b, i] reaches only row b of Z, so X[b, i] for all b share slot i; with row losses
//    L_b = sum_j Y[b, j]^2, dL/dX[b, i] is slot i of L_b.
// So N/K passes give a full gradient, instead of N*M/K. Within a pass, Z's value comes from the
// plain contraction (every term) and its derivatives from the terms whose tangent is non-zero
// (the seeded chunk), accumulated in AutoDiffScalar arithmetic: constants pay nothing for
// derivatives. The activation's value and derivative at each element of Z come once, before the
// passes, from its one-derivative AutoDiffScalar (on SIMD lanes, as in reverse mode), and each
// pass carries them to its chunk by AutoDiffScalar's own rule for a function of one variable,
// dY = act'(Z) dZ; the loss then runs on the AD scalars as written.
#pragma once

#include <algorithm>
#include <array>
#include <vector>

#include "eigen_autodiff/core/dense_layer.hpp"
#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/fast/reverse.hpp"

namespace eigen_autodiff {

// Derivatives per chunk: one AVX-512 register of double, half of one of float.
inline constexpr int forward_chunk_size = 8;

namespace detail {

// The passes: chunks of K parameter slots, split further into blocks of rows so that even a
// layer with a single chunk keeps every thread busy. Each task is (chunk, row block).
struct ChunkTask {
  Index i0;     // first parameter slot of the chunk
  Index width;  // slots in the chunk (K but for the last)
  Index b0;     // rows [b0, b1) of the batch
  Index b1;
};

struct ChunkTasks {
  Index slots;
  Index rows;
  int k;
  Index row_blocks;
  Index rows_per_block;

  Index chunks() const { return (slots + k - 1) / k; }
  Index count() const { return chunks() * row_blocks; }
  ChunkTask operator[](Index task) const {
    const Index i0 = (task / row_blocks) * k;
    const Index b0 = (task % row_blocks) * rows_per_block;
    return {i0, std::min<Index>(k, slots - i0), b0, std::min(rows, b0 + rows_per_block)};
  }
};

inline ChunkTasks chunk_tasks(Index slots, Index rows, int k) {
  const Index row_blocks = std::max<Index>(1, std::min<Index>(rows, 8));
  return {slots, rows, k, row_blocks, (rows + row_blocks - 1) / row_blocks};
}

// W[i0 .. i0+width, :] transposed into rows of K (zero-padded): the coefficients of one output
// column's tangent, contiguous.
template <int K, typename T>
std::vector<T> transposed_chunk(ConstMatrixView<T> w, const ChunkTask& task) {
  const Index outputs = w.dimension(1);
  std::vector<T> chunk(static_cast<std::size_t>(outputs * K), T(0));
  for (Index j = 0; j < outputs; ++j) {
    for (Index k = 0; k < task.width; ++k) {
      chunk[j * K + k] = w.data()[(task.i0 + k) * outputs + j];
    }
  }
  return chunk;
}

// The chunk [i0, i0+width) of W's rows seeded, chunk by chunk like the article's convert: W[i, j]
// is an AD scalar carrying e_{i-i0}, for every column j. Row k of the result is W[i0+k, :].
template <int K, typename T>
std::vector<FixedAD<T, K>> seeded_w_rows(ConstMatrixView<T> w, const ChunkTask& task) {
  const Index outputs = w.dimension(1);
  std::vector<FixedAD<T, K>> seeded(static_cast<std::size_t>(task.width * outputs));
  for (Index k = 0; k < task.width; ++k) {
    for (Index j = 0; j < outputs; ++j) {
      seeded[k * outputs + j] =
          FixedAD<T, K>(w.data()[(task.i0 + k) * outputs + j], K, static_cast<int>(k));
    }
  }
  return seeded;
}

// Row b of X with its columns [i0, i0+width) seeded: X[b, i] carries e_{i-i0}.
template <int K, typename T>
void seed_x_row(const T* x_row, const ChunkTask& task, FixedAD<T, K>* seeded) {
  for (Index k = 0; k < task.width; ++k) {
    seeded[k] = FixedAD<T, K>(x_row[task.i0 + k], K, static_cast<int>(k));
  }
}

// Replaces each z by act(z) and writes act'(z) to slope, computed once for all the passes.
template <typename T, typename Device, typename Act>
void activation_in_place(const Device& device, const Act& activation, T* z, T* slope, Index n) {
  for_each_block(device, n, [&](Index, Index first, Index last) {
    for_each_slice(activation, z, first, last,
                   [&](Index start, Index count, const T* value, const T* derivative) {
                     std::copy(value, value + count, z + start);
                     std::copy(derivative, derivative + count, slope + start);
                   });
  });
}

}  // namespace detail

// The derivatives of Z[b, j] w.r.t. the seeded chunk: the contraction's terms over the chunk,
// X[b, i] * W[i, j] with W[i, j] seeded.
template <int K, typename T>
typename FixedAD<T, K>::DerType z_tangent_w(const T* x_row, const FixedAD<T, K>* seeded_w,
                                            Index outputs, Index j, const detail::ChunkTask& task) {
  FixedAD<T, K> sum(T(0));
  for (Index k = 0; k < task.width; ++k) {
    sum += x_row[task.i0 + k] * seeded_w[k * outputs + j];
  }
  return sum.derivatives();
}

// The same with X[b, i] seeded; w_chunk_row holds W[i0 .. i0+width, j].
template <int K, typename T>
typename FixedAD<T, K>::DerType z_tangent_x(const FixedAD<T, K>* seeded_x, const T* w_chunk_row,
                                            const detail::ChunkTask& task) {
  FixedAD<T, K> sum(T(0));
  for (Index k = 0; k < task.width; ++k) {
    sum += seeded_x[k] * w_chunk_row[k];
  }
  return sum.derivatives();
}

// The parameter a forward pass is seeded in.
enum class ForwardWrt { w, x, b };

// Calls on_output(task, b, j, Y[b, j]) for every output of every pass, Y[b, j] an AD scalar
// whose derivative k is dY[b, j]/dW[i0+k, j] (ForwardWrt::w) or dY[b, j]/dX[b, i0+k]
// (ForwardWrt::x) for the task's chunk; y and slope hold act(Z) and act'(Z)
// (detail::activation_in_place). Tasks run in parallel on the device; on_output must only touch
// its task's state.
template <int K, typename T, typename Device, typename OnOutput>
void for_each_output_tangent(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                             const T* y, const T* slope, ForwardWrt wrt,
                             const detail::ChunkTasks& tasks, OnOutput&& on_output) {
  using AD = FixedAD<T, K>;
  const Index inputs = x.dimension(1);
  const Index outputs = w.dimension(1);
  // AutoDiffScalar's rule for a function of one variable: act(z) with derivatives act'(z) dz.
  const auto chained = [&](Index at, const typename AD::DerType& dz) {
    return AD(y[at], dz * slope[at]);
  };
  parallel_for(device, tasks.count(), [&](Index task) {
    const detail::ChunkTask chunk = tasks[task];
    if (wrt == ForwardWrt::w) {
      const std::vector<AD> seeded_w = detail::seeded_w_rows<K>(w, chunk);
      for (Index b = chunk.b0; b < chunk.b1; ++b) {
        cancellation_point();
        for (Index j = 0; j < outputs; ++j) {
          on_output(task, b, j,
                    chained(b * outputs + j, z_tangent_w<K>(x.data() + b * inputs, seeded_w.data(),
                                                            outputs, j, chunk)));
        }
      }
    } else {
      const std::vector<T> w_chunk = detail::transposed_chunk<K>(w, chunk);
      std::array<AD, K> seeded_x;
      for (Index b = chunk.b0; b < chunk.b1; ++b) {
        cancellation_point();
        detail::seed_x_row<K>(x.data() + b * inputs, chunk, seeded_x.data());
        for (Index j = 0; j < outputs; ++j) {
          on_output(task, b, j,
                    chained(b * outputs + j,
                            z_tangent_x<K>(seeded_x.data(), w_chunk.data() + j * K, chunk)));
        }
      }
    }
  });
}

// L = scale * sum((act(X.W + b) - target)^2) and its gradients by chunked, compressed forward
// mode, written where wanted. b's entries each reach one column of Z, so all of them share one
// derivative slot: a single pass of one-derivative AutoDiffScalars gives dL/db (and the loss).
template <int K = forward_chunk_size, typename T, typename Device, typename Act>
double value_and_grad_forward(const Device& device, const DenseLayer<T>& layer,
                              const Act& activation, const SquaredError<T>& loss,
                              const LayerGradients<T>& grads) {
  using AD = FixedAD<T, K>;
  const ConstMatrixView<T> x = layer.x;
  const ConstMatrixView<T> w = layer.w;
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  ScratchBuffer<T> z(static_cast<std::size_t>(batch * outputs));
  pre_activations(device, layer, MatrixView<T>(z.data(), batch, outputs));
  ScratchBuffer<T> dz(z.size());
  std::copy_n(z.data(), z.size(), dz.data());
  const double value =
      loss_and_output_gradient(device, activation, loss, MatrixView<T>(dz.data(), batch, outputs));
  if (grads.db != nullptr) {
    column_sums(device, ConstMatrixView<T>(dz.data(), batch, outputs), grads.db);
  }
  const auto target = [&](Index b, Index j) {
    return loss.target ? loss.target[b * outputs + j] : T(0);
  };
  const T scale = static_cast<T>(loss.scale);
  const auto tasks = detail::chunk_tasks(inputs, batch, K);
  ScratchBuffer<T> slope(z.size());
  detail::activation_in_place(device, activation, z.data(), slope.data(), batch * outputs);
  const T* y = z.data();

  if (grads.dw != nullptr) {
    // Column losses L_j of each task, reduced in task order afterwards: reproducible sums.
    std::vector<AD> column_loss(static_cast<std::size_t>(tasks.count() * outputs), AD(T(0)));
    for_each_output_tangent<K>(device, x, w, y, slope.data(), ForwardWrt::w, tasks,
                               [&](Index task, Index b, Index j, const AD& y) {
                                 const AD error = y - target(b, j);
                                 column_loss[task * outputs + j] += error * error;
                               });
    T* dw = grads.dw;
    std::fill(dw, dw + inputs * outputs, T(0));
    for (Index task = 0; task < tasks.count(); ++task) {
      const detail::ChunkTask chunk = tasks[task];
      for (Index j = 0; j < outputs; ++j) {
        for (Index k = 0; k < chunk.width; ++k) {
          dw[(chunk.i0 + k) * outputs + j] +=
              scale * column_loss[task * outputs + j].derivatives()(k);
        }
      }
    }
  }

  if (grads.dx != nullptr) {
    // Row losses L_b: each (task, b) pair is one task's alone, so they live in dx directly,
    // accumulated in a K-wide AD scalar per row.
    std::vector<AD> row_loss(static_cast<std::size_t>(tasks.chunks() * batch), AD(T(0)));
    for_each_output_tangent<K>(device, x, w, y, slope.data(), ForwardWrt::x, tasks,
                               [&](Index task, Index b, Index j, const AD& y) {
                                 const AD error = y - target(b, j);
                                 row_loss[task / tasks.row_blocks * batch + b] += error * error;
                               });
    T* dx = grads.dx;
    std::fill(dx, dx + batch * inputs, T(0));
    for (Index chunk_index = 0; chunk_index < tasks.chunks(); ++chunk_index) {
      const detail::ChunkTask chunk = tasks[chunk_index * tasks.row_blocks];
      for (Index b = 0; b < batch; ++b) {
        for (Index k = 0; k < chunk.width; ++k) {
          dx[b * inputs + chunk.i0 + k] =
              scale * row_loss[chunk_index * batch + b].derivatives()(k);
        }
      }
    }
  }
  return value;
}

}  // namespace eigen_autodiff
