// The built-in activations, each a function object usable on float, double and any
// Eigen::AutoDiffScalar, and the table that maps their names to them.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "eigen_autodiff/core/custom_derivative.hpp"
#include "eigen_autodiff/core/lanes.hpp"
#include "eigen_autodiff/core/scalar_math.hpp"
#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {
namespace activations {

// An activation given by one expression in x, for every scalar type: the function names are found
// by argument-dependent lookup for AutoDiffScalar and from std for float and double.
#define EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Type, label, expression) \
  struct Type {                                                       \
    static constexpr std::string_view name = label;                   \
    static constexpr bool evaluates_lanes = true;                     \
    template <typename S>                                             \
    S operator()(const S& x) const {                                  \
      using std::cos;                                                 \
      using std::exp;                                                 \
      using std::sin;                                                 \
      using std::tanh;                                                \
      return expression;                                              \
    }                                                                 \
  };

EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Identity, "identity", x)
EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Sin, "sin", sin(x))
EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Cos, "cos", cos(x))
EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Exp, "exp", exp(x))
EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(Square, "square", x* x)
// 1 / exp(x) written naively, as in the article, on purpose: at x = 100 in float32 exp overflows
// and the derivative is -inf * 0 = NaN although the value (0) is fine.
EIGEN_AUTODIFF_EXPRESSION_ACTIVATION(InvExp, "inv_exp", constant<S>(1) / exp(x))

#undef EIGEN_AUTODIFF_EXPRESSION_ACTIVATION

// Eigen's AD tanh takes the derivative as 1 / cosh(x)^2: cosh(x)^2 overflows for |x| > 44.4 in
// float and 355 in double, and the derivative becomes 0 where the true one, 1 - tanh(x)^2, is
// still representable (4.4e-40 at 46 in float, 8.1e-313 at 360 in double). The derivative is
// supplied instead (custom_derivative.hpp) as 4 e / (1 + e)^2 with e = exp(-2|x|): exp's
// argument is never positive, and only products and a sum of positive terms follow, so it keeps
// a few ulps of accuracy down to the subnormals. Forced inline, as the sigmoid.
struct Tanh {
  static constexpr std::string_view name = "tanh";
  static constexpr bool evaluates_lanes = true;
  template <typename S>
  EIGEN_ALWAYS_INLINE S operator()(const S& x) const {
    using std::abs;
    using std::tanh;
    if constexpr (!is_autodiff<S>::value) {
      return tanh(x);
    } else {
      using T = value_type_t<S>;
      const T v = value_of(x);
      // On nested AutoDiffScalars the value is itself an AutoDiffScalar, which gets this same
      // derivative: the second derivative differentiates it (Eigen's own would need cosh).
      const T t = (*this)(v);
      // Below 0.625, where t^2 < 1/3, 1 - t^2 magnifies t's rounding error at most once.
      const auto small = abs(innermost_value_of(v)) < 0.625;
      if constexpr (is_lanes<innermost_value_t<S>>::value) {
        // Both formulas, each lane taking its own.
        return with_derivative(x, t, where(small, T(constant<T>(1) - t * t), tail_slope(v)));
      } else {
        // 1 - t^2 cancels to nothing in the tails, and 4e/(1+e)^2 (e = exp(-2|x|)) near 0, where
        // its own derivative (tanh'') subtracts two nearly equal terms: each where it is exact.
        return with_derivative(x, t, small ? T(1) - t * t : tail_slope(v));
      }
    }
  }

 private:
  // 4e/(1+e)^2 with e = exp(-2|v|): tanh'(v) without cancellation for large |v|.
  template <typename T>
  static T tail_slope(const T& v) {
    using std::abs;
    using std::exp;
    const T e = exp(constant<T>(-2) * abs(v));
    const T denominator = constant<T>(1) + e;
    return constant<T>(4) * e / (denominator * denominator);
  }
};

// The article's my_function, 1 / (1 + exp(-x)), overflows exp for large negative x (and its
// derivative becomes inf/inf = NaN); the branch keeps exp's argument non-positive. Forced inline:
// with two return paths GCC may call it out of line, returning through memory at twice the cost.
struct Sigmoid {
  static constexpr std::string_view name = "sigmoid";
  static constexpr bool evaluates_lanes = true;
  template <typename S>
  EIGEN_ALWAYS_INLINE S operator()(const S& x) const {
    using std::exp;
    if constexpr (is_lanes<innermost_value_t<S>>::value) {
      // The same two formulas, each lane taking the one whose exp cannot overflow.
      const auto positive = innermost_value_of(x) >= 0;
      const S e = exp(where(positive, S(-x), x));
      const S one = constant<S>(1);
      return where(positive, S(one / (one + e)), S(e / (one + e)));
    } else {
      if (value_of(x) >= 0) {
        return S(1) / (S(1) + exp(-x));
      }
      const S e = exp(x);
      return e / (S(1) + e);
    }
  }
};

// relu'(0) = 0, as in PyTorch, JAX and TensorFlow. NaN propagates.
struct Relu {
  static constexpr std::string_view name = "relu";
  static constexpr bool evaluates_lanes = true;
  template <typename S>
  S operator()(const S& x) const {
    return where(innermost_value_of(x) <= 0, zero_like(x), x);
  }
};

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp's argument is never positive, so value and
// derivative stay finite for every finite x. The derivative, the sigmoid, is supplied by hand from
// the same exp(-|x|) (custom_derivative.hpp) instead of differentiating the formula: the AD chain
// through exp and log1p is skipped, and the result is the sigmoid's own formula rather than
// 1 - e/(1+e) (in float32 over [-20, 20]: at most 3.2 ulps from the exact sigmoid, was 3.5).
// Forced inline, as the sigmoid.
struct Softplus {
  static constexpr std::string_view name = "softplus";
  static constexpr bool evaluates_lanes = true;
  template <typename S>
  EIGEN_ALWAYS_INLINE S operator()(const S& x) const {
    using std::abs;
    using std::exp;
    using std::log1p;
    using T = value_type_t<S>;
    const T v = value_of(x);
    const auto plain = innermost_value_of(v);
    const T e = exp(-abs(v));
    const T zero = constant<T>(0);
    const T one = constant<T>(1);
    const T value = where(plain > 0, v, zero) + log1p(e);
    if constexpr (is_autodiff<S>::value) {
      return with_derivative(x, value, where(plain >= 0, one, e) / (one + e));
    } else {
      return value;
    }
  }
};

}  // namespace activations

// Every built-in activation, once: (enumerator, function object).
#define EIGEN_AUTODIFF_BUILTIN_ACTIVATIONS(X) \
  X(identity, Identity)                       \
  X(sin, Sin)                                 \
  X(cos, Cos)                                 \
  X(tanh, Tanh)                               \
  X(sigmoid, Sigmoid)                         \
  X(relu, Relu)                               \
  X(softplus, Softplus)                       \
  X(exp, Exp)                                 \
  X(square, Square)                           \
  X(inv_exp, InvExp)

#define EIGEN_AUTODIFF_ENUMERATOR(name, Type) name,
enum class Activation { EIGEN_AUTODIFF_BUILTIN_ACTIVATIONS(EIGEN_AUTODIFF_ENUMERATOR) };
inline constexpr Activation all_activations[] = {
#define EIGEN_AUTODIFF_LISTED(name, Type) Activation::name,
    EIGEN_AUTODIFF_BUILTIN_ACTIVATIONS(EIGEN_AUTODIFF_LISTED)};
#undef EIGEN_AUTODIFF_LISTED
#undef EIGEN_AUTODIFF_ENUMERATOR

// Calls f with the function object of the activation a: the one switch over activations.
template <typename F>
decltype(auto) visit_activation(Activation a, F&& f) {
  switch (a) {
#define EIGEN_AUTODIFF_VISIT(name, Type) \
  case Activation::name:                 \
    return f(activations::Type{});
    EIGEN_AUTODIFF_BUILTIN_ACTIVATIONS(EIGEN_AUTODIFF_VISIT)
#undef EIGEN_AUTODIFF_VISIT
  }
  throw std::invalid_argument("unknown activation enumerator");
}

inline std::string_view activation_name(Activation a) {
  return visit_activation(a, [](auto fn) { return decltype(fn)::name; });
}

inline std::string activation_names_joined() {
  std::string names;
  for (Activation a : all_activations) {
    names += (names.empty() ? "" : ", ");
    names += activation_name(a);
  }
  return names;
}

inline Activation activation_from_name(std::string_view name) {
  for (Activation a : all_activations) {
    if (activation_name(a) == name) {
      return a;
    }
  }
  throw std::invalid_argument("unknown activation '" + std::string(name) +
                              "'; built-in activations: " + activation_names_joined());
}

namespace detail {
// The first `count` (at most a packet's) values at from as lanes, the others zero.
template <typename T>
Lanes<T> load_first(const T* from, Index count) {
  if (count == Lanes<T>::size) {
    return Lanes<T>::load(from);
  }
  T padded[Lanes<T>::size] = {};
  std::copy(from, from + count, padded);
  return Lanes<T>::load(padded);
}

// The first `count` lanes of v, written to out.
template <typename T>
void store_first(const Lanes<T>& v, T* out, Index count) {
  if (count == Lanes<T>::size) {
    v.store(out);
    return;
  }
  T all[Lanes<T>::size];
  v.store(all);
  std::copy(all, all + count, out);
}

// Calls at(lanes, first, count) for the points x[first, first + count) loaded as lanes, a packet
// at a time; a last partial packet is padded with zeros.
template <typename T, typename At>
void for_each_packet(const T* x, Index n, At&& at) {
  for (Index k = 0; k < n; k += Lanes<T>::size) {
    const Index count = std::min<Index>(Lanes<T>::size, n - k);
    at(load_first(x + k, count), k, count);
  }
}

template <typename T, typename Act>
inline constexpr bool on_lanes = evaluates_lanes<Act>::value && has_lanes<T>;
}  // namespace detail

// The activation's value at each of n points: y[k] = activation(x[k]) (y may be x). Activations
// that evaluate many points faster than one at a time (traced programs) overload this.
template <typename T, typename Act>
void activation_values(const Act& activation, const T* x, T* y, Index n) {
  if constexpr (detail::on_lanes<T, Act>) {
    detail::for_each_packet(x, n, [&](const Lanes<T>& in, Index first, Index count) {
      detail::store_first(activation(in), y + first, count);
    });
  } else {
    for (Index k = 0; k < n; ++k) {
      y[k] = activation(x[k]);
    }
  }
}

// Value and derivative of an activation at each of n points (one-derivative AutoDiffScalar, on
// whole SIMD packets of points for the activations that evaluate lanes). Activations that
// evaluate many points faster than one at a time (traced programs) overload this.
template <typename T, typename Act>
void activation_value_and_derivative(const Act& activation, const T* x, T* value, T* derivative,
                                     Index n) {
  if (n < 0) {
    throw std::invalid_argument("activation_value_and_derivative: n must be non-negative, got " +
                                std::to_string(n));
  }
  if (n > 0 && (x == nullptr || value == nullptr || derivative == nullptr)) {
    throw std::invalid_argument("activation_value_and_derivative: null pointer for " +
                                std::to_string(n) + " values");
  }
  if constexpr (detail::on_lanes<T, Act>) {
    detail::for_each_packet(x, n, [&](const Lanes<T>& in, Index first, Index count) {
      const LanesAD<T> y = activation(LanesAD<T>(in, 1, 0));
      detail::store_first(y.value(), value + first, count);
      detail::store_first(y.derivatives()(0), derivative + first, count);
    });
  } else {
    for (Index k = 0; k < n; ++k) {
      const ScalarAD<T> y = activation(ScalarAD<T>(x[k], 1, 0));
      value[k] = y.value();
      derivative[k] = y.derivatives()(0);
    }
  }
}

// An AutoDiffScalar over one-derivative AutoDiffScalars: value and derivative both carry d/dz.
// P is a plain number (T) or SIMD lanes of them (Lanes<T>), one point per lane.
template <typename P>
using SecondOrderAD = Eigen::AutoDiffScalar<Eigen::Matrix<ScalarAD<P>, 1, 1>>;

namespace detail {
// z seeded on both levels: inner derivative 1 (d/dz), outer derivative the tangent t, whose own
// derivative is 0 (the tangent does not move with z).
template <typename P>
SecondOrderAD<P> seeded_twice(const P& z, const P& t) {
  using Inner = ScalarAD<P>;
  return SecondOrderAD<P>(Inner(z, 1, 0),
                          Eigen::Matrix<Inner, 1, 1>(Inner(t, Eigen::Matrix<P, 1, 1>(P(0)))));
}

// f'' t from an evaluation at seeded_twice(z, t).
template <typename P>
P second_along(const SecondOrderAD<P>& y) {
  return y.derivatives()(0).derivatives()(0);
}

// f, f' and f'' from an evaluation at seeded_twice(x, 1), written at k of value, first and
// second: the first `count` lanes of each over lanes, one number otherwise.
template <typename P, typename T>
void store_second_order(const SecondOrderAD<P>& y, T* value, T* first, T* second, Index k,
                        Index count) {
  if constexpr (is_lanes<P>::value) {
    store_first(y.value().value(), value + k, count);
    store_first(y.derivatives()(0).value(), first + k, count);
    store_first(second_along(y), second + k, count);
  } else {
    static_cast<void>(count);
    value[k] = y.value().value();
    first[k] = y.derivatives()(0).value();
    second[k] = second_along(y);
  }
}
}  // namespace detail

// Value, first and second derivative of an activation at each of n points, from nested
// AutoDiffScalars (over whole SIMD packets of points for the activations that evaluate lanes):
// value[k] = f(x[k]), first[k] = f'(x[k]), second[k] = f''(x[k]).
template <typename T, typename Act>
void second_derivative(const Act& activation, const T* x, T* value, T* first, T* second, Index n) {
  if (n < 0) {
    throw std::invalid_argument("second_derivative: n must be non-negative, got " +
                                std::to_string(n));
  }
  if (n > 0 && (x == nullptr || value == nullptr || first == nullptr || second == nullptr)) {
    throw std::invalid_argument("second_derivative: null pointer for " + std::to_string(n) +
                                " values");
  }
  if constexpr (detail::on_lanes<T, Act>) {
    detail::for_each_packet(x, n, [&](const Lanes<T>& in, Index start, Index count) {
      const SecondOrderAD<Lanes<T>> y = activation(detail::seeded_twice(in, Lanes<T>(T(1))));
      detail::store_second_order(y, value, first, second, start, count);
    });
  } else {
    for (Index k = 0; k < n; ++k) {
      const SecondOrderAD<T> y = activation(detail::seeded_twice(x[k], T(1)));
      detail::store_second_order(y, value, first, second, k, 1);
    }
  }
}

}  // namespace eigen_autodiff
