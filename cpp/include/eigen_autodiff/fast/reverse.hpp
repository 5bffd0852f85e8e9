// The layer's loss and gradients by reverse mode, the way a framework's backward pass does it:
// Z = X.W by contraction; each element's loss term act(z)^2 on a one-derivative AutoDiffScalar
// gives dL/dZ exactly; then dW = X^T.dL/dZ and dX = dL/dZ.W^T by two more contractions.
#pragma once

#include <algorithm>
#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/parallel.hpp"
#include "eigen_autodiff/core/products.hpp"

namespace eigen_autodiff {

// y = activation(x . w), written into y (shape B x M). Act is any elementwise function object
// callable on T and on AutoDiffScalar (a built-in from activations.hpp, or a user's own).
template <typename T, typename Device, typename Act>
void layer_values(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                  const Act& activation, MatrixView<T> y) {
  contract_into(device, x, w, y);
  T* data = y.data();
  for_each_block(device, y.size(), [&](Index, Index first, Index last) {
    // Unqualified: an activation may overload it to evaluate a range at once (ADL).
    activation_values(activation, data + first, data + first, last - first);
  });
}

// Replaces each z by dL/dz = d(act(z)^2)/dz and returns L = sum act(z)^2, accumulated in double
// per block and summed in block order (reproducible for any thread count).
template <typename T, typename Device, typename Act>
double loss_and_output_gradient(const Device& device, const Act& activation, MatrixView<T> z) {
  std::vector<double> block_loss(static_cast<std::size_t>(block_count(z.size())), 0.0);
  T* data = z.data();
  for_each_block(device, z.size(), [&](Index block, Index first, Index last) {
    double loss = 0;
    // act(z) and act'(z) for a slice at a time, unqualified so that an activation may overload
    // activation_value_and_derivative to evaluate a range at once (ADL); then the loss term.
    constexpr Index slice = 256;
    T value[slice];
    T slope[slice];
    for (Index start = first; start < last; start += slice) {
      const Index count = std::min(slice, last - start);
      activation_value_and_derivative(activation, data + start, value, slope, count);
      // A sum of its own, kept in a register: no call in this loop clobbers it.
      double slice_loss = 0;
      for (Index k = 0; k < count; ++k) {
        const ScalarAD<T> y(value[k], Eigen::Matrix<T, 1, 1>(slope[k]));
        const ScalarAD<T> term = y * y;
        slice_loss += static_cast<double>(term.value());
        data[start + k] = term.derivatives()(0);
      }
      loss += slice_loss;
    }
    block_loss[static_cast<std::size_t>(block)] = loss;
  });
  double loss = 0;
  for (double partial : block_loss) {
    loss += partial;
  }
  return loss;
}

// Returns L = sum(act(X.W)^2) and writes dL/dX into dx and dL/dW into dw where they are not
// null (row-major buffers of X's and W's shapes). Allocates B*M values of its own for dL/dZ.
template <typename T, typename Device, typename Act>
double value_and_grad_reverse(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                              const Act& activation, T* dx, T* dw) {
  const Index batch = x.dimension(0);
  const Index outputs = w.dimension(1);
  check_layer_shapes(batch, x.dimension(1), w.dimension(0), outputs);
  AlignedVector<T> workspace(static_cast<std::size_t>(batch * outputs));
  MatrixView<T> g(workspace.data(), batch, outputs);
  contract_into(device, x, w, g);
  const double loss = loss_and_output_gradient(device, activation, g);
  const ConstMatrixView<T> g_const(workspace.data(), batch, outputs);
  if (dw != nullptr) {
    // dW = X^T . G: contract the batch index of both.
    contract(device, x, g_const, Transpose::a, MatrixView<T>(dw, x.dimension(1), outputs));
  }
  if (dx != nullptr) {
    // dX = G . W^T: contract the output index of both.
    contract(device, g_const, w, Transpose::b, MatrixView<T>(dx, batch, x.dimension(1)));
  }
  return loss;
}

}  // namespace eigen_autodiff
