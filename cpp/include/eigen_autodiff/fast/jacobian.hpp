// The full Jacobian of the layer's output Y = act(X.W) by chunked forward mode, in the layout of
// jax.jacfwd: dY[b, j]/dW[i, l] at (b, j, i, l), dY[b, j]/dX[c, i] at (b, j, c, i). Most entries
// are structural zeros (Y[b, j] depends only on W[:, j] and X[b, :]); the compressed passes of
// fast/forward.hpp give the others.
#pragma once

#include <algorithm>
#include <vector>

#include "eigen_autodiff/fast/forward.hpp"

namespace eigen_autodiff {

// The number of entries of the parameter `wrt`.
template <typename T>
Index parameter_size(const DenseLayer<T>& layer, ForwardWrt wrt) {
  switch (wrt) {
    case ForwardWrt::w:
      return layer.inputs() * layer.outputs();
    case ForwardWrt::x:
      return layer.batch() * layer.inputs();
    case ForwardWrt::b:
      return layer.outputs();
  }
  throw std::invalid_argument("unknown ForwardWrt enumerator");
}

// Writes dY/d(wrt) into out: shape (B, M, N, M) for W, (B, M, B, N) for X, (B, M, M) for b.
template <int K = forward_chunk_size, typename T, typename Device, typename Act>
void layer_jacobian(const Device& device, const DenseLayer<T>& layer, const Act& activation,
                    ForwardWrt wrt, T* out) {
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  const Index size = parameter_size(layer, wrt);
  check_buffer(out, batch * outputs * size, "layer_jacobian: out");
  std::fill(out, out + batch * outputs * size, T(0));
  ScratchBuffer<T> z(static_cast<std::size_t>(batch * outputs));
  pre_activations(device, layer, MatrixView<T>(z.data(), batch, outputs));
  if (wrt == ForwardWrt::b) {
    // b[j] reaches Y[:, j] only: one seeded slot, dY[b, j]/db[j] = act'(Z[b, j]).
    for_each_block(device, z.size(), [&](Index, Index first, Index last) {
      detail::for_each_slice(activation, z.data(), first, last,
                             [&](Index start, Index count, const T*, const T* slope) {
                               for (Index k = start; k < start + count; ++k) {
                                 out[k * outputs + k % outputs] = slope[k - start];
                               }
                             });
    });
    return;
  }
  const auto tasks = detail::chunk_tasks(inputs, batch, K);
  ScratchBuffer<T> slope(z.size());
  detail::activation_in_place(device, activation, z.data(), slope.data(), batch * outputs);
  for_each_output_tangent<K>(device, layer.x, layer.w, z.data(), slope.data(), wrt, tasks,
                             [&](Index task, Index b, Index j, const FixedAD<T, K>& y) {
                               const detail::ChunkTask chunk = tasks[task];
                               T* row = out + (b * outputs + j) * size;
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
