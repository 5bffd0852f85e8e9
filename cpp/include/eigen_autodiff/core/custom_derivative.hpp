// Custom derivatives, the C++ counterpart of tf.custom_gradient: a function whose value comes from
// one function and whose derivative comes from another, on float, double or any AutoDiffScalar.
// Where the automatic derivative of a formula is numerically wrong (1/exp(x) at x = 100 in float:
// exp overflows and the derivative is -inf * 0 = NaN), the derivative is written by hand in a
// stable form (-exp(-x)) and the chain rule is applied to it here.
#pragma once

#include <type_traits>
#include <utility>

#include "eigen_autodiff/core/scalar_math.hpp"

namespace eigen_autodiff {

// The AD scalar with value fx and derivatives dfx times x's: the chain rule for y = f(x) with
// f(value) = fx and f'(value) = dfx given by the caller. On a plain scalar it is fx.
template <typename S>
plain_scalar_t<S> with_derivative(const S& x, const value_type_t<S>& fx,
                                  const value_type_t<S>& dfx) {
  if constexpr (is_autodiff<S>::value && is_autodiff<value_type_t<S>>::value) {
    // Nested (second derivatives): fx was computed from the value's formula, and its own
    // derivatives follow that formula (softplus's through abs at 0, 1/exp(x)'s through an
    // overflowing exp); the supplied derivative replaces them too.
    const value_type_t<S> value(fx.value(), x.value().derivatives() * dfx.value());
    return plain_scalar_t<S>(value, x.derivatives() * dfx);
  } else if constexpr (is_autodiff<S>::value) {
    return plain_scalar_t<S>(fx, x.derivatives() * dfx);
  } else {
    static_cast<void>(x);
    static_cast<void>(dfx);
    return fx;
  }
}

// An elementwise function object whose value is value_fn(x) and whose derivative is
// derivative_fn(x) times x's derivatives. Both are evaluated on the plain value of x (float,
// double), so they may be any callables taking and returning that type; derivative_fn is not
// called when x is a plain scalar.
template <typename ValueFn, typename DerivativeFn>
struct CustomDerivative {
  ValueFn value_fn;
  DerivativeFn derivative_fn;

  template <typename S>
  plain_scalar_t<S> operator()(const S& x) const {
    const value_type_t<S> v = value_of(x);
    if constexpr (is_autodiff<S>::value) {
      return with_derivative(x, value_fn(v), derivative_fn(v));
    } else {
      return value_fn(v);
    }
  }
};

// custom_derivative(f, df): the activation whose value is f and whose derivative is df, e.g. the
// article's fix
//   auto stable = custom_derivative([](auto x) { using std::exp; return 1 / exp(x); },
//                                   [](auto x) { using std::exp; return -exp(-x); });
template <typename ValueFn, typename DerivativeFn>
CustomDerivative<std::decay_t<ValueFn>, std::decay_t<DerivativeFn>> custom_derivative(
    ValueFn&& value_fn, DerivativeFn&& derivative_fn) {
  return {std::forward<ValueFn>(value_fn), std::forward<DerivativeFn>(derivative_fn)};
}

}  // namespace eigen_autodiff
