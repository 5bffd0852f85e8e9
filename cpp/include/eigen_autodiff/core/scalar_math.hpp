// What the activations need beyond Eigen's AutoDiff: the value of a plain or AD scalar, a zero of
// the same kind, and the functions Eigen's AutoDiff module does not define (log1p, expm1, erf).
#pragma once

#include <cmath>
#include <type_traits>
#include <utility>

#include "eigen_autodiff/core/eigen_setup.hpp"

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

// The plain number at the bottom of a (possibly nested) AutoDiffScalar: T for T, for
// AutoDiffScalar<Matrix<T, ...>> and for AutoDiffScalar<Matrix<AutoDiffScalar<...T...>, ...>>.
template <typename S>
struct innermost_value {
  using type = S;
};
template <typename D>
struct innermost_value<Eigen::AutoDiffScalar<D>> {
  using type = typename innermost_value<value_type_t<Eigen::AutoDiffScalar<D>>>::type;
};
template <typename S>
using innermost_value_t = typename innermost_value<S>::type;

// The plain number at the bottom of x. Branches and masks compare it: AutoDiffScalar compares its
// value and returns a bool, which lanes (whose comparisons give a mask per lane) cannot.
template <typename S>
innermost_value_t<S> innermost_value_of(const S& x) {
  if constexpr (is_autodiff<S>::value) {
    return innermost_value_of(x.value());
  } else {
    return x;
  }
}

// The constant c as an S: built from the innermost type, because C++ converts an int to a nested
// AutoDiffScalar over lanes only through two constructors (int -> Lanes -> AutoDiffScalar), more
// than an implicit conversion may take.
template <typename S>
S constant(innermost_value_t<S> c) {
  return S(c);
}

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
    return S(innermost_value_t<S>(0), Derivatives::Zero(x.derivatives().size()));
  } else {
    return S(0);
  }
}

}  // namespace eigen_autodiff

// Beside Eigen's own AutoDiffScalar functions (sin, exp, ...), in namespace Eigen and generated
// the way AutoDiffScalar.h generates those, so that argument-dependent lookup finds them: callers
// write `using std::log1p; log1p(x)` for a float, a double or any AutoDiffScalar (nested ones
// included, since the value's own function is found the same way).
namespace Eigen {

#define EIGEN_AUTODIFF_EXTRA_UNARY(FUNC, DERIVATIVE)                                     \
  template <typename DerType>                                                            \
  ::eigen_autodiff::plain_scalar_t<AutoDiffScalar<DerType>> FUNC(                        \
      const AutoDiffScalar<DerType>& x) {                                                \
    using Scalar =                                                                       \
        typename internal::traits<typename internal::remove_all<DerType>::type>::Scalar; \
    using std::exp;                                                                      \
    using std::FUNC;                                                                     \
    const Scalar& v = x.value();                                                         \
    return {FUNC(v), x.derivatives() * Scalar(DERIVATIVE)};                              \
  }

EIGEN_AUTODIFF_EXTRA_UNARY(log1p, Scalar(1) / (Scalar(1) + v))
// exp(x) - 1 without the cancellation near 0.
EIGEN_AUTODIFF_EXTRA_UNARY(expm1, exp(v))
EIGEN_AUTODIFF_EXTRA_UNARY(atan, Scalar(1) / (Scalar(1) + v * v))
// erf'(x) = 2/sqrt(pi) exp(-x^2).
EIGEN_AUTODIFF_EXTRA_UNARY(erf, Scalar(1.12837916709551257389615890312154517) * exp(-v * v))

#undef EIGEN_AUTODIFF_EXTRA_UNARY

// An AutoDiffScalar whose derivatives are AutoDiffScalars (nested, for second derivatives).
template <typename Inner, int Rows, int Options, int MaxRows, int MaxCols>
using NestedAutoDiffScalar =
    AutoDiffScalar<Matrix<AutoDiffScalar<Inner>, Rows, 1, Options, MaxRows, MaxCols>>;

// Eigen's pow(x, y) calls pow on two AutoDiffScalars, which nested AutoDiffScalars cannot take;
// this more specialised overload is chosen for them (and abs, in lanes.hpp).
template <typename Inner, int Rows, int Options, int MaxRows, int MaxCols>
NestedAutoDiffScalar<Inner, Rows, Options, MaxRows, MaxCols> pow(
    const NestedAutoDiffScalar<Inner, Rows, Options, MaxRows, MaxCols>& x,
    const typename internal::traits<Inner>::Scalar& y) {
  const AutoDiffScalar<Inner>& v = x.value();
  return {pow(v, y), x.derivatives() * AutoDiffScalar<Inner>(y * pow(v, y - 1))};
}

}  // namespace Eigen
