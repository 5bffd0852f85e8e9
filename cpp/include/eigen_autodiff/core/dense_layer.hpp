// The layer the fast paths differentiate, Y = act(X.W + b) (a Keras Dense), its loss
// L = scale * sum((Y - target)^2), and where gradients go: plain views and pointers, so that the
// bindings and C++ callers hand over their buffers without copies.
#pragma once

#include <stdexcept>
#include <string>

#include "eigen_autodiff/core/checks.hpp"
#include "eigen_autodiff/core/parallel.hpp"
#include "eigen_autodiff/core/products.hpp"

namespace eigen_autodiff {

template <typename T>
struct DenseLayer {
  ConstMatrixView<T> x;     // B x N, row-major
  ConstMatrixView<T> w;     // N x M, row-major
  const T* bias = nullptr;  // M values, or null for no bias

  DenseLayer(ConstMatrixView<T> x_, ConstMatrixView<T> w_, const T* bias_ = nullptr)
      : x(x_), w(w_), bias(bias_) {
    check_layer_shapes(x.dimension(0), x.dimension(1), w.dimension(0), w.dimension(1));
  }
  Index batch() const { return x.dimension(0); }
  Index inputs() const { return x.dimension(1); }
  Index outputs() const { return w.dimension(1); }
};

// L = scale * sum over every element of (Y - target)^2: scale 1 sums, 1 / Y.size() averages
// (torch.nn.MSELoss). A null target is zeros: the article's sum(Y^2).
template <typename T>
struct SquaredError {
  const T* target = nullptr;  // B x M values, row-major, or null
  double scale = 1;
};

// Where gradients w.r.t. X, W and b are written (row-major, the parameters' shapes); null for
// the ones not wanted.
template <typename T>
struct LayerGradients {
  T* dx = nullptr;
  T* dw = nullptr;
  T* db = nullptr;
};

// z[i, j] += bias[j] for every row i; nothing for a null bias.
template <typename T, typename Device>
void add_to_rows(const Device& device, const T* bias, MatrixView<T> z) {
  if (bias == nullptr || z.size() == 0) {
    return;
  }
  const Index cols = z.dimension(1);
  T* data = z.data();
  parallel_for(device, z.dimension(0), [&](Index row) {
    for (Index j = 0; j < cols; ++j) {
      data[row * cols + j] += bias[j];
    }
  });
}

// z = x . w + b, the activation's argument (B x M).
template <typename T, typename Device>
void pre_activations(const Device& device, const DenseLayer<T>& layer, MatrixView<T> z) {
  contract_into(device, layer.x, layer.w, z);
  add_to_rows(device, layer.bias, z);
}

}  // namespace eigen_autodiff
