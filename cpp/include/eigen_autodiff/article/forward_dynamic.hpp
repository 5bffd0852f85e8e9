// The layer's loss and gradients by forward mode, as in the article: every parameter of interest
// is seeded as a unit derivative vector (convert), the loss is evaluated on AutoDiffScalar, and
// its derivative vector is unpacked into gradients shaped like the parameters.
#pragma once

#include <vector>

#include "eigen_autodiff/article/layer.hpp"
#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/dense_layer.hpp"
#include "eigen_autodiff/core/interrupts.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"

namespace eigen_autodiff {

// Returns L = scale * sum((act(X.W + b) - target)^2) and writes its gradients where wanted. X is
// seeded first, W after it and b last, as the article seeds X and W. Parameters not asked for
// are constants whose derivative vectors are zeros of the full length: mixing empty derivative
// vectors with full ones inside one expression trips an AutoDiffScalar bug in Eigen 3.4.
template <typename T, typename Act>
double value_and_grad_forward_dynamic(const DenseLayer<T>& layer, const Act& activation,
                                      const SquaredError<T>& loss, const LayerGradients<T>& grads) {
  using AD = DynamicAD<T>;
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  const Wanted wanted{grads.dx != nullptr, grads.dw != nullptr, grads.db != nullptr};
  const auto size = static_cast<Index>(wanted_entries(batch, inputs, outputs, wanted));

  const auto seeded = [size](const T* values, Index rows, Index cols, bool seed, Index offset) {
    RowMajorTensor<T> plain(rows, cols);
    // Eigen copies with memcpy, whose pointers must not be null even for no bytes (UBSan): an
    // empty tensor has a null data pointer.
    if (plain.size() > 0) {
      plain = ConstMatrixView<T>(values, rows, cols);
    }
    if (seed) {
      return convert<AD>(plain, offset, size);
    }
    RowMajorTensor<AD> constants(rows, cols);
    for (Index k = 0; k < plain.size(); ++k) {
      constants.data()[k] = AD(plain.data()[k], AD::DerType::Zero(size));
    }
    return constants;
  };
  const Index w_offset = wanted.x ? batch * inputs : 0;
  const Index b_offset = w_offset + (wanted.w ? inputs * outputs : 0);
  const RowMajorTensor<AD> x_ad = seeded(layer.x.data(), batch, inputs, wanted.x, 0);
  const RowMajorTensor<AD> w_ad = seeded(layer.w.data(), inputs, outputs, wanted.w, w_offset);
  const std::vector<T> zeros(static_cast<std::size_t>(outputs), T(0));
  const RowMajorTensor<AD> b_ad =
      seeded(layer.bias ? layer.bias : zeros.data(), 1, outputs, wanted.b, b_offset);

  // Y = act(X.W + b) and the loss, a row at a time so that the computation may stop in between:
  // one row is already N*M products of derivative vectors of every parameter.
  using Matrix = Eigen::Matrix<AD, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Matrix> w_matrix(w_ad.data(), inputs, outputs);
  AD total(0, AD::DerType::Zero(size));
  Matrix z_row;
  for (Index i = 0; i < batch; ++i) {
    cancellation_point();
    z_row.noalias() = Eigen::Map<const Matrix>(x_ad.data() + i * inputs, 1, inputs) * w_matrix;
    for (Index j = 0; j < outputs; ++j) {
      // An activation on derivative vectors of every parameter can be slow on its own.
      cancellation_point();
      const T target = loss.target ? loss.target[i * outputs + j] : T(0);
      const AD error = activation(AD(z_row(0, j) + b_ad(0, j))) - target;
      total += error * error;
    }
  }
  total *= static_cast<T>(loss.scale);

  if (wanted.x && x_ad.size() > 0) {
    MatrixView<T>(grads.dx, batch, inputs) = unpack_derivatives<T>(total.derivatives(), 0, x_ad);
  }
  if (wanted.w && w_ad.size() > 0) {
    MatrixView<T>(grads.dw, inputs, outputs) =
        unpack_derivatives<T>(total.derivatives(), w_offset, w_ad);
  }
  if (wanted.b && b_ad.size() > 0) {
    MatrixView<T>(grads.db, 1, outputs) =
        unpack_derivatives<T>(total.derivatives(), b_offset, b_ad);
  }
  return static_cast<double>(total.value());
}

}  // namespace eigen_autodiff
