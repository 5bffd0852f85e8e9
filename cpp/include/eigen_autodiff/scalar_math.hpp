// What the activations need beyond Eigen's AutoDiff: the value of a plain or AD scalar, a zero of
// the same kind, and functions Eigen's AutoDiff module does not define (log1p, expm1, erf).
#pragma once

#include <cmath>
#include <type_traits>
#include <utility>

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

// The plain type of a scalar's value: T for T and for AutoDiffScalar<Matrix<T, ...>>.
template <typename S>
using value_type_t = decltype(value_of(std::declval<const S&>()));

// The type that holds the result of an operation on S: S itself, or for an AutoDiffScalar over an
// expression (2 * x) the AutoDiffScalar over a plain vector.
template <typename S>
struct plain_scalar {
  using type = S;
};
template <typename D>
struct plain_scalar<Eigen::AutoDiffScalar<D>> {
  using type = Eigen::AutoDiffScalar<typename Eigen::internal::remove_all<D>::type::PlainObject>;
};
template <typename S>
using plain_scalar_t = typename plain_scalar<S>::type;

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

namespace detail {
template <typename D>
using PlainAD = Eigen::AutoDiffScalar<typename Eigen::internal::remove_all<D>::type::PlainObject>;
template <typename D>
using ScalarOf =
    typename Eigen::internal::traits<typename Eigen::internal::remove_all<D>::type>::Scalar;
}  // namespace detail

template <typename T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
T log1p(T x) {
  return std::log1p(x);
}

template <typename D>
detail::PlainAD<D> log1p(const Eigen::AutoDiffScalar<D>& x) {
  using Scalar = detail::ScalarOf<D>;
  return {std::log1p(x.value()), x.derivatives() * (Scalar(1) / (Scalar(1) + x.value()))};
}

template <typename T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
T expm1(T x) {
  return std::expm1(x);
}

// exp(x) - 1 without the cancellation near 0; its derivative is exp(x).
template <typename D>
detail::PlainAD<D> expm1(const Eigen::AutoDiffScalar<D>& x) {
  using std::exp;
  return {std::expm1(x.value()), x.derivatives() * exp(x.value())};
}

template <typename T, std::enable_if_t<std::is_floating_point<T>::value, int> = 0>
T erf(T x) {
  return std::erf(x);
}

// erf'(x) = 2/sqrt(pi) exp(-x^2).
template <typename D>
detail::PlainAD<D> erf(const Eigen::AutoDiffScalar<D>& x) {
  using Scalar = detail::ScalarOf<D>;
  using std::exp;
  const Scalar two_over_sqrt_pi = Scalar(1.12837916709551257389615890312154517);
  return {std::erf(x.value()), x.derivatives() * (two_over_sqrt_pi * exp(-x.value() * x.value()))};
}

}  // namespace eigen_autodiff
