// The full Jacobian of the layer's output Y = act(X.W) by chunked forward mode, in the layout of
// jax.jacfwd: dY[b, j]/dW[i, l] at (b, j, i, l), dY[b, j]/dX[c, i] at (b, j, c, i). Most entries
// are structural zeros (Y[b, j] depends only on W[:, j] and X[b, :]); the compressed passes of
// chunked_forward.hpp give the others.
#pragma once

#include <algorithm>
#include <vector>

#include "eigen_autodiff/fast/forward.hpp"

namespace eigen_autodiff {

// Writes dY/d(wrt) into out: shape (B, M, N, M) for W, (B, M, B, N) for X.
template <int K = forward_chunk_size, typename T, typename Device, typename Act>
void layer_jacobian(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                    const Act& activation, ForwardWrt wrt, T* out) {
  const Index batch = x.dimension(0);
  const Index inputs = x.dimension(1);
  const Index outputs = w.dimension(1);
  check_layer_shapes(batch, inputs, w.dimension(0), outputs);
  const Index parameter_size = wrt == ForwardWrt::w ? inputs * outputs : batch * inputs;
  check_buffer(out, batch * outputs * parameter_size, "layer_jacobian: out");
  std::fill(out, out + batch * outputs * parameter_size, T(0));
  AlignedVector<T> z(static_cast<std::size_t>(batch * outputs));
  contract_into(device, x, w, MatrixView<T>(z.data(), batch, outputs));
  const auto tasks = detail::chunk_tasks(inputs, batch, K);
  for_each_output_tangent<K>(device, x, w, z.data(), activation, wrt, tasks,
                             [&](Index task, Index b, Index j, const FixedAD<T, K>& y) {
                               const detail::ChunkTask chunk = tasks[task];
                               T* row = out + (b * outputs + j) * parameter_size;
                               for (Index k = 0; k < chunk.width; ++k) {
                                 // dY[b, j]/dW[i, j] sits at (i, j) of W's shape; dY[b, j]/dX[b, i]
                                 // at (b, i) of X's.
                                 const Index entry = wrt == ForwardWrt::w
                                                         ? (chunk.i0 + k) * outputs + j
                                                         : b * inputs + chunk.i0 + k;
                                 row[entry] = y.derivatives()(k);
                               }
                             });
}

}  // namespace eigen_autodiff
