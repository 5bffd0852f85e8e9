// The layer's loss and gradients by forward mode, as in the article: every parameter of interest
// is seeded as a unit derivative vector (convert), the loss is evaluated on AutoDiffScalar, and
// its derivative vector is unpacked into gradients shaped like the parameters.
#pragma once

#include <cstdint>
#include <limits>

#include "eigen_autodiff/activations.hpp"
#include "eigen_autodiff/layer.hpp"

namespace eigen_autodiff {

namespace detail {
// a * b, saturating instead of overflowing: size estimates must never wrap around.
inline std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return product;
}
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return sum;
}
}  // namespace detail

// Number of derivatives each AD scalar carries when the gradients w.r.t. the chosen parameters
// are computed in one forward pass.
inline std::uint64_t forward_mode_derivative_count(Index batch, Index inputs, Index outputs,
                                                   bool wrt_x, bool wrt_w) {
  using detail::saturating_add;
  using detail::saturating_mul;
  const auto b = static_cast<std::uint64_t>(batch);
  const auto n = static_cast<std::uint64_t>(inputs);
  const auto m = static_cast<std::uint64_t>(outputs);
  return saturating_add(wrt_x ? saturating_mul(b, n) : 0, wrt_w ? saturating_mul(n, m) : 0);
}

// Bytes the article's forward mode needs: X, W and Z as AD scalars each carrying that many
// derivatives, twice over for the product's packed copies and the activation's output.
template <typename T>
std::uint64_t forward_mode_workspace_bytes(Index batch, Index inputs, Index outputs, bool wrt_x,
                                           bool wrt_w) {
  using detail::saturating_add;
  using detail::saturating_mul;
  const auto b = static_cast<std::uint64_t>(batch);
  const auto n = static_cast<std::uint64_t>(inputs);
  const auto m = static_cast<std::uint64_t>(outputs);
  const std::uint64_t scalars = saturating_add(
      saturating_add(saturating_mul(b, n), saturating_mul(n, m)), saturating_mul(b, m));
  const std::uint64_t per_scalar = saturating_add(
      sizeof(DynamicAD<T>),
      saturating_mul(forward_mode_derivative_count(batch, inputs, outputs, wrt_x, wrt_w),
                     sizeof(T)));
  return saturating_mul(2, saturating_mul(scalars, per_scalar));
}

// Returns L = sum(act(X.W)^2) and writes dL/dX into dx and dL/dW into dw where they are not null.
// X is seeded first and W after it, as in the article. Parameters not asked for are constants
// whose derivative vectors are zeros of the full length: mixing empty derivative vectors with
// full ones inside one expression trips an AutoDiffScalar bug in Eigen 3.4.
template <typename T, typename Act>
double value_and_grad_forward(ConstMatrixView<T> x, ConstMatrixView<T> w, const Act& activation,
                              T* dx, T* dw) {
  using AD = DynamicAD<T>;
  const Index batch = x.dimension(0);
  const Index inputs = x.dimension(1);
  const Index outputs = w.dimension(1);
  check_layer_shapes(batch, inputs, w.dimension(0), outputs);
  const Index size =
      static_cast<Index>(forward_mode_derivative_count(batch, inputs, outputs, dx, dw));

  const auto seeded = [size](ConstMatrixView<T> values, bool seed, Index offset) {
    const RowMajorTensor<T> plain = values;
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

  const RowMajorTensor<AD> y = custom_layer(x_ad, w_ad, activation);
  AD loss(0, AD::DerType::Zero(size));
  for (Index k = 0; k < y.size(); ++k) {
    loss += y.data()[k] * y.data()[k];
  }

  if (dx != nullptr) {
    MatrixView<T>(dx, batch, inputs) = unpack_derivatives<T>(loss.derivatives(), 0, x_ad);
  }
  if (dw != nullptr) {
    MatrixView<T>(dw, inputs, outputs) =
        unpack_derivatives<T>(loss.derivatives(), dx != nullptr ? x.size() : 0, w_ad);
  }
  return static_cast<double>(loss.value());
}

}  // namespace eigen_autodiff
