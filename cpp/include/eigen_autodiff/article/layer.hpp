// The article's custom layer Y = activation(X . W) (a Keras Dense without bias) and its loss
// sum(Y^2), for any scalar type: float, double or an AutoDiffScalar carrying derivatives; with
// the article's seeding helpers (convert, gradients), so that this one header is the article's API.
#pragma once

#include <stdexcept>
#include <string>

#include "eigen_autodiff/article/seeding.hpp"
#include "eigen_autodiff/core/checks.hpp"
#include "eigen_autodiff/core/scalar_math.hpp"

namespace eigen_autodiff {

// Contract the last index of X with the first of W: the matrix product.
inline const Eigen::array<Eigen::IndexPair<Index>, 1> product_dims = {
    Eigen::IndexPair<Index>(1, 0)};

// X . W. Plain scalars go through Eigen's Tensor contraction. AutoDiffScalar goes through Eigen's
// dense product instead: the Tensor contraction packs operands into uninitialised memory by
// assignment, which for derivative vectors on the heap frees garbage pointers (AddressSanitizer
// shows it on the article's own program), while the dense product constructs its buffers.
template <typename S, int Options>
Eigen::Tensor<S, 2, Options> matrix_product(const Eigen::Tensor<S, 2, Options>& x,
                                            const Eigen::Tensor<S, 2, Options>& w) {
  check_layer_shapes(x.dimension(0), x.dimension(1), w.dimension(0), w.dimension(1));
  if constexpr (is_autodiff<S>::value) {
    constexpr int storage = (Options & Eigen::RowMajor) ? Eigen::RowMajor : Eigen::ColMajor;
    using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, storage>;
    Eigen::Tensor<S, 2, Options> z(x.dimension(0), w.dimension(1));
    Eigen::Map<Matrix>(z.data(), z.dimension(0), z.dimension(1)).noalias() =
        Eigen::Map<const Matrix>(x.data(), x.dimension(0), x.dimension(1)) *
        Eigen::Map<const Matrix>(w.data(), w.dimension(0), w.dimension(1));
    return z;
  } else {
    return x.contract(w, product_dims);
  }
}

template <typename S, int Options, typename Act>
Eigen::Tensor<S, 2, Options> custom_layer(const Eigen::Tensor<S, 2, Options>& x,
                                          const Eigen::Tensor<S, 2, Options>& w, Act activation) {
  const Eigen::Tensor<S, 2, Options> z = matrix_product(x, w);
  return z.unaryExpr(activation);
}

template <typename S, int Options>
S sum_of_squares(const Eigen::Tensor<S, 2, Options>& y) {
  S total(0);
  for (Index k = 0; k < y.size(); ++k) {
    total += y.data()[k] * y.data()[k];
  }
  return total;
}

}  // namespace eigen_autodiff
