// Names for the tensor and AutoDiffScalar types the library works with.
#pragma once

#include "eigen_autodiff/core/eigen_setup.hpp"

namespace eigen_autodiff {

using Index = Eigen::Index;

// NumPy arrays are row-major; mapping them with any other layout would silently transpose.
template <typename T>
using RowMajorTensor = Eigen::Tensor<T, 2, Eigen::RowMajor>;
template <typename T>
using MatrixView = Eigen::TensorMap<RowMajorTensor<T>>;
template <typename T>
using ConstMatrixView = Eigen::TensorMap<const RowMajorTensor<T>>;

// The article's AD scalar: one derivative per seeded parameter, sized at run time.
template <typename T>
using DynamicAD = Eigen::AutoDiffScalar<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
// A fixed number of derivatives, carried in place: no heap allocation per operation.
template <typename T, int K>
using FixedAD = Eigen::AutoDiffScalar<Eigen::Matrix<T, K, 1>>;
// One derivative: the elementwise derivative of a scalar function.
template <typename T>
using ScalarAD = FixedAD<T, 1>;

}  // namespace eigen_autodiff
