// The article's two helpers, generalised: `convert` seeds a tensor's entries as independent
// variables (unit derivative vectors at an offset), `gradients` unpacks a loss's derivative vector
// back into tensors shaped like the parameters. Entries are numbered in row-major order whatever
// the tensor's layout, matching NumPy's C order.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "eigen_autodiff/core/checks.hpp"

namespace eigen_autodiff {

// Returns the tensor as AD scalars. With size == 0 every entry is a constant (an empty derivative
// vector, as in the article); otherwise entry (i, j) gets the unit vector e_{offset + i*cols + j}
// of length size.
template <typename AD = void, typename T, int Options>
auto convert(const Eigen::Tensor<T, 2, Options>& tensor, Index offset = 0, Index size = 0) {
  using Scalar = std::conditional_t<std::is_void<AD>::value, DynamicAD<T>, AD>;
  using Derivatives = typename Scalar::DerType;
  const Index rows = tensor.dimension(0);
  const Index cols = tensor.dimension(1);
  if (offset < 0 || size < 0 || (size > 0 && offset > size - rows * cols)) {
    throw std::invalid_argument(
        "convert: entries " + std::to_string(offset) + ".." + std::to_string(offset + rows * cols) +
        " of a tensor of shape " + detail::shape_string(rows, cols) +
        " do not fit in a derivative vector of size " + std::to_string(size));
  }
  // AutoDiffScalar numbers its derivatives with int.
  if (size > std::numeric_limits<int>::max()) {
    throw std::invalid_argument("convert: size " + std::to_string(size) +
                                " exceeds AutoDiffScalar's largest derivative count " +
                                std::to_string(std::numeric_limits<int>::max()));
  }
  if (Derivatives::SizeAtCompileTime != Eigen::Dynamic && size != 0 &&
      size != Derivatives::SizeAtCompileTime) {
    throw std::invalid_argument("convert: size " + std::to_string(size) +
                                " differs from the fixed derivative size " +
                                std::to_string(Derivatives::SizeAtCompileTime));
  }
  Eigen::Tensor<Scalar, 2, Options> result(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) {
      if (size > 0) {
        result(i, j) =
            Scalar(tensor(i, j), static_cast<int>(size), static_cast<int>(offset + i * cols + j));
      } else {
        result(i, j) = Scalar(tensor(i, j));
      }
    }
  }
  return result;
}

// Copies derivatives[offset + i*cols + j] into result(i, j) for a result shaped like `like`.
template <typename T, typename Derivatives, typename Like>
Eigen::Tensor<T, 2, Like::Layout> unpack_derivatives(const Derivatives& derivatives, Index offset,
                                                     const Like& like) {
  const Index rows = like.dimension(0);
  const Index cols = like.dimension(1);
  if (offset < 0 || derivatives.size() < offset + rows * cols) {
    throw std::invalid_argument("gradients: the loss has " + std::to_string(derivatives.size()) +
                                " derivatives, too few for a parameter of shape " +
                                detail::shape_string(rows, cols) + " at offset " +
                                std::to_string(offset) + " (was it seeded with convert?)");
  }
  Eigen::Tensor<T, 2, Like::Layout> result(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) {
      result(i, j) = derivatives(offset + i * cols + j);
    }
  }
  return result;
}

// dLOSS/dW for W seeded alone (convert(w, 0, w.size())).
template <typename D, typename ADTensor>
auto gradients(const Eigen::AutoDiffScalar<D>& loss, const ADTensor& w) {
  using T = typename Eigen::AutoDiffScalar<D>::Scalar;
  return unpack_derivatives<T>(loss.derivatives(), 0, w);
}

// (dLOSS/dX, dLOSS/dW) for X seeded first and W after it, as in the article.
template <typename D, typename ADTensorX, typename ADTensorW>
auto gradients(const Eigen::AutoDiffScalar<D>& loss, const ADTensorX& x, const ADTensorW& w) {
  using T = typename Eigen::AutoDiffScalar<D>::Scalar;
  return std::make_pair(unpack_derivatives<T>(loss.derivatives(), 0, x),
                        unpack_derivatives<T>(loss.derivatives(), x.size(), w));
}

}  // namespace eigen_autodiff
