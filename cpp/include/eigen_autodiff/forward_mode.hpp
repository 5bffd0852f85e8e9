// The layer's loss and gradients by forward mode, as in the article: every parameter of interest
// is seeded as a unit derivative vector (convert), the loss is evaluated on AutoDiffScalar, and
// its derivative vector is unpacked into gradients shaped like the parameters.
#pragma once

#include "eigen_autodiff/activations.hpp"
#include "eigen_autodiff/interrupts.hpp"
#include "eigen_autodiff/layer.hpp"
#include "eigen_autodiff/memory_estimates.hpp"

namespace eigen_autodiff {

// Returns L = sum(act(X.W)^2) and writes dL/dX into dx and dL/dW into dw where they are not null.
// X is seeded first and W after it, as in the article. Parameters not asked for are constants
// whose derivative vectors are zeros of the full length: mixing empty derivative vectors with
// full ones inside one expression trips an AutoDiffScalar bug in Eigen 3.4.
template <typename T, typename Act>
double value_and_grad_forward_dynamic(ConstMatrixView<T> x, ConstMatrixView<T> w,
                                      const Act& activation, T* dx, T* dw) {
  using AD = DynamicAD<T>;
  const Index batch = x.dimension(0);
  const Index inputs = x.dimension(1);
  const Index outputs = w.dimension(1);
  check_layer_shapes(batch, inputs, w.dimension(0), outputs);
  const Index size =
      static_cast<Index>(forward_mode_derivative_count(batch, inputs, outputs, dx, dw));

  const auto seeded = [size](ConstMatrixView<T> values, bool seed, Index offset) {
    RowMajorTensor<T> plain(values.dimension(0), values.dimension(1));
    // Eigen copies with memcpy, whose pointers must not be null even for no bytes (UBSan): an
    // empty tensor has a null data pointer.
    if (plain.size() > 0) {
      plain = values;
    }
    if (seed) {
      return convert<AD>(plain, offset, size);
    }
    RowMajorTensor<AD> constants(plain.dimension(0), plain.dimension(1));
    for (Index k = 0; k < plain.size(); ++k) {
      constants.data()[k] = AD(plain.data()[k], AD::DerType::Zero(size));
    }
    return constants;
  };
  const RowMajorTensor<AD> x_ad = seeded(x, dx != nullptr, 0);
  const RowMajorTensor<AD> w_ad = seeded(w, dw != nullptr, dx != nullptr ? x.size() : 0);

  // Y = act(X.W) and the loss, a row at a time so that the computation may stop in between: one
  // row is already N*M products of derivative vectors of every parameter.
  using Matrix = Eigen::Matrix<AD, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Matrix> w_matrix(w_ad.data(), inputs, outputs);
  AD loss(0, AD::DerType::Zero(size));
  Matrix y_row;
  for (Index b = 0; b < batch; ++b) {
    cancellation_point();
    y_row.noalias() = Eigen::Map<const Matrix>(x_ad.data() + b * inputs, 1, inputs) * w_matrix;
    for (Index k = 0; k < y_row.size(); ++k) {
      // An activation on derivative vectors of every parameter can be slow on its own.
      cancellation_point();
      const AD y = activation(y_row.data()[k]);
      loss += y * y;
    }
  }

  if (dx != nullptr && x.size() > 0) {
    MatrixView<T>(dx, batch, inputs) = unpack_derivatives<T>(loss.derivatives(), 0, x_ad);
  }
  if (dw != nullptr && w.size() > 0) {
    MatrixView<T>(dw, inputs, outputs) =
        unpack_derivatives<T>(loss.derivatives(), dx != nullptr ? x.size() : 0, w_ad);
  }
  return static_cast<double>(loss.value());
}

}  // namespace eigen_autodiff
