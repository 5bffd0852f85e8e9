// What the activations need beyond Eigen's AutoDiff: the value of a plain or AD scalar, a zero of
// the same kind, and functions Eigen's AutoDiff module does not define (log1p).
#pragma once

#include <cmath>
#include <type_traits>

#include "eigen_autodiff/eigen_setup.hpp"

namespace eigen_autodiff {

template <typename S>
struct is_autodiff : std::false_type {};
template <typename D>
struct is_autodiff<Eigen::AutoDiffScalar<D>> : std::true_type {};

template <typename S>
auto value_of(const S& x) {
  if constexpr (is_autodiff<S>::value) {
    return x.value();
  } else {
    return x;
  }
}

// A zero whose derivative vector has the length of x's, so that later arithmetic never mixes an
// empty derivative vector with a full one.
template <typename S>
S zero_like(const S& x) {
  if constexpr (is_autodiff<S>::value) {
    using Derivatives = typename S::DerType;
    return S(0, Derivatives::Zero(x.derivatives().size()));
  } else {
    return S(0);
  }
}

template <typename T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
T log1p(T x) {
  return std::log1p(x);
}

template <typename D>
Eigen::AutoDiffScalar<typename Eigen::internal::remove_all<D>::type::PlainObject> log1p(
    const Eigen::AutoDiffScalar<D>& x) {
  using Scalar =
      typename Eigen::internal::traits<typename Eigen::internal::remove_all<D>::type>::Scalar;
  return {std::log1p(x.value()), x.derivatives() * (Scalar(1) / (Scalar(1) + x.value()))};
}

}  // namespace eigen_autodiff
