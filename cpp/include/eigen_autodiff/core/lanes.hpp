// A scalar type whose value is one SIMD packet of several elements, the lanes, with the arithmetic
// and the math functions of Eigen's packet math. Eigen::AutoDiffScalar over it (LanesAD)
// evaluates an activation and its derivative at a whole packet of points at once: the derivative
// still comes from AutoDiffScalar's chain rule, only each operation works on every lane.
//
// The functions agree with the standard library's wherever the standard library is exact to an
// ulp or two: Eigen's packet exp flushes to 0 or overflows early near the ends of its range (3.4:
// exp(88.7f) = inf, exp(-88.f) = 0, exp(-800.) = 5.6e-309), so a packet holding such an argument
// is computed by std::exp, element by element. Eigen 3.4 has no packet sin, cos or tanh for
// double: they are computed here (sin_and_cos_of_doubles, tanh_of_doubles), sin and cos element by
// element by std::sin and std::cos for arguments beyond the reduction's range. sin and cos
// together, as an AutoDiffScalar's sin needs them, come from one argument reduction for floats too
// (sin_and_cos_of_floats).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "eigen_autodiff/core/scalar_math.hpp"
#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

namespace detail {
// sin and cos of every lane of a packet of doubles, which Eigen 3.4 has no packet version of,
// both from one reduction (an AutoDiffScalar's sin needs both): Cephes' method (sin.c). The
// argument is reduced by the nearest multiple q of pi/2 in four parts (Cody-Waite, with fdlibm's
// split of pi/2: the first three have 33 bits, so q times each is exact for q < 2^20, with or
// without FMA), and sin or cos of the rest, |r| <= pi/4, comes from Cephes' polynomials, about 1
// ulp. The four parts hold pi/2 to 1e-48, so that near a zero of sin or cos, where the rest is as
// small as 1e-17, it keeps its relative accuracy. Valid for |x| < reduced_argument_limit<double>;
// beyond, the caller goes to std::sin.
template <typename T>
inline constexpr T reduced_argument_limit = T(1e5);

template <typename Packet>
std::pair<Packet, Packet> sin_and_cos_of_doubles(const Packet& x) {
  namespace in = Eigen::internal;
  const auto c = [](double v) { return in::pset1<Packet>(v); };
  const Packet ax = in::pabs(x);
  const Packet q = in::pfloor(in::pmadd(ax, c(0.63661977236758134308), c(0.5)));
  Packet r = in::psub(ax, in::pmul(q, c(0x1.921fb544p+0)));
  r = in::psub(r, in::pmul(q, c(0x1.0b4611a6p-34)));
  r = in::psub(r, in::pmul(q, c(0x1.3198a2ep-69)));
  r = in::psub(r, in::pmul(q, c(0x1.b839a252049c1p-104)));
  const Packet zz = in::pmul(r, r);
  Packet sin_poly = c(1.58962301576546568060e-10);
  Packet cos_poly = c(-1.13585365213876817300e-11);
  for (double coefficient :
       {-2.50507477628578072866e-8, 2.75573136213857245213e-6, -1.98412698295895385996e-4,
        8.33333333332211858878e-3, -1.66666666666666307295e-1}) {
    sin_poly = in::pmadd(sin_poly, zz, c(coefficient));
  }
  for (double coefficient :
       {2.08757008419747316778e-9, -2.75573141792967388112e-7, 2.48015872888517045348e-5,
        -1.38888888888730564116e-3, 4.16666666666665929218e-2}) {
    cos_poly = in::pmadd(cos_poly, zz, c(coefficient));
  }
  const Packet sin_r = in::padd(r, in::pmul(in::pmul(r, zz), sin_poly));
  const Packet cos_r =
      in::padd(in::psub(c(1), in::pmul(c(0.5), zz)), in::pmul(in::pmul(zz, zz), cos_poly));
  // In quadrant n = q mod 4, sin is sin r, cos r, -sin r, -cos r, and cos is sin's of quadrant
  // n + 1.
  const auto in_quadrant = [&](const Packet& shifted) {
    const Packet n = in::psub(shifted, in::pmul(c(4), in::pfloor(in::pmul(shifted, c(0.25)))));
    const Packet odd =
        in::pcmp_eq(in::psub(n, in::pmul(c(2), in::pfloor(in::pmul(n, c(0.5))))), c(1));
    const Packet result = in::pselect(odd, cos_r, sin_r);
    return in::pselect(in::pcmp_le(c(2), n), in::pnegate(result), result);
  };
  const Packet sin_ax = in_quadrant(q);
  // sin is odd, cos even.
  return {in::pselect(in::pcmp_lt(x, c(0)), in::pnegate(sin_ax), sin_ax),
          in_quadrant(in::padd(q, c(1)))};
}

// tanh of every lane of a packet of doubles, which Eigen 3.4 has no packet version of. For
// |x| < 0.625, Cephes' rational function of x^2 (tanh.c), which keeps the relative accuracy down to
// the subnormals; beyond, 1 - 2e / (1 + e) with e = exp(-2|x|) <= 0.29, a difference of 1 and at
// most 0.45 that loses nothing. Relative error at most 1.3 epsilon (measured against long double on
// 8 million points in [-12, 12]). exp's argument is held above -40, where tanh already rounds to
// 1, to stay in the packet exp's range; NaN is kept.
template <typename Packet>
Packet tanh_of_doubles(const Packet& x) {
  namespace in = Eigen::internal;
  const auto c = [](double v) { return in::pset1<Packet>(v); };
  const Packet ax = in::pabs(x);
  const Packet z = in::pmul(x, x);
  const Packet p =
      in::pmadd(in::pmadd(c(-9.64399179425052238628e-1), z, c(-9.92877231001918586564e1)), z,
                c(-1.61468768441708447952e3));
  const Packet q =
      in::pmadd(in::pmadd(in::padd(z, c(1.12811678491632931402e2)), z, c(2.23548839060100448583e3)),
                z, c(4.84406305325125486048e3));
  const Packet near_zero = in::pmadd(in::pmul(x, z), in::pdiv(p, q), x);
  const Packet e = in::pexp(in::pmax(in::pmul(c(-2), ax), c(-40)));
  const Packet tail = in::psub(c(1), in::pdiv(in::padd(e, e), in::padd(c(1), e)));
  const Packet signed_tail = in::pselect(in::pcmp_lt(x, c(0)), in::pnegate(tail), tail);
  const Packet result = in::pselect(in::pcmp_lt(ax, c(0.625)), near_zero, signed_tail);
  return in::pselect(in::pcmp_eq(x, x), result, x);
}

// sin and cos of every lane of a packet of floats from one argument reduction. Eigen 3.4's psin
// and pcos (psincos_float) each reduce the argument and evaluate both polynomials, then keep one;
// this is the same computation, step by step, keeping both, so that the results are theirs bit for
// bit. Valid where neither takes its slow path for huge arguments: |x| below cos's threshold, the
// lower; beyond, the caller goes to psin and pcos.
#if defined(EIGEN_VECTORIZE_FMA)
template <>
inline constexpr float reduced_argument_limit<float> = 71476.0625f;
#else
template <>
inline constexpr float reduced_argument_limit<float> = 18838.f;
#endif

template <typename Packet>
std::pair<Packet, Packet> sin_and_cos_of_floats(const Packet& x_in) {
  namespace in = Eigen::internal;
  using PacketI = typename in::unpacket_traits<Packet>::integer_packet;
  const auto c = [](float v) { return in::pset1<Packet>(v); };
  Packet x = in::pabs(x_in);
  const Packet rounding_magic = c(12582912);  // 2^23 + 2^22: rounds to an integer in the low bits
  Packet y_round = in::padd(in::pmul(x, c(0.636619746685028076171875f)), rounding_magic);
  EIGEN_OPTIMIZATION_BARRIER(y_round)
  const PacketI y_int = in::preinterpret<PacketI>(y_round);
  const Packet y = in::psub(y_round, rounding_magic);
#if defined(EIGEN_VECTORIZE_FMA)
  x = in::pmadd(y, c(-1.57079601287841796875f), x);
  x = in::pmadd(y, c(-3.1391647326017846353352069854736328125e-07f), x);
  x = in::pmadd(y, c(-5.390302529957764765544681040410068817436695098876953125e-15f), x);
#else
  x = in::pmadd(y, c(-1.5703125f), x);
  EIGEN_OPTIMIZATION_BARRIER(x)
  x = in::pmadd(y, c(-0.000483989715576171875f), x);
  EIGEN_OPTIMIZATION_BARRIER(x)
  x = in::pmadd(y, c(1.62865035235881805419921875e-07f), x);
  x = in::pmadd(y, c(5.5644315544167710640977020375430583953857421875e-11f), x);
#endif
  const Packet sign_mask = in::pset1frombits<Packet>(0x80000000u);
  const Packet sin_sign = in::pand(
      in::pxor(x_in, in::preinterpret<Packet>(in::plogical_shift_left<30>(y_int))), sign_mask);
  const Packet cos_sign = in::pand(
      in::preinterpret<Packet>(in::plogical_shift_left<30>(in::padd(y_int, in::pset1<PacketI>(1)))),
      sign_mask);
  const Packet even_quadrant = in::preinterpret<Packet>(
      in::pcmp_eq(in::pand(y_int, in::pset1<PacketI>(1)), in::pzero(y_int)));
  const Packet x2 = in::pmul(x, x);
  Packet cos_poly = c(2.4372266125283204019069671630859375e-05f);
  for (float coefficient :
       {-0.00138865201734006404876708984375f, 0.041666619479656219482421875f, -0.5f, 1.f}) {
    cos_poly = in::pmadd(cos_poly, x2, c(coefficient));
  }
  Packet sin_poly = c(-0.0001959234114083702898469196984621021329076029360294342041015625f);
  for (float coefficient : {0.0083326873655616851693794799871284340042620897293090820312500000f,
                            -0.1666666203982298255503735617821803316473960876464843750000000000f}) {
    sin_poly = in::pmadd(sin_poly, x2, c(coefficient));
  }
  sin_poly = in::pmadd(in::pmul(sin_poly, x2), x, x);
  return {in::pxor(in::pselect(even_quadrant, sin_poly, cos_poly), sin_sign),
          in::pxor(in::pselect(even_quadrant, cos_poly, sin_poly), cos_sign)};
}
}  // namespace detail

template <typename T>
class Lanes;

// Which lanes satisfy a comparison (all bits set in those lanes), for where(). Combined like
// bools, lane by lane, as std::experimental::simd_mask is (no short circuit).
template <typename T>
struct LaneMask {
  typename Eigen::internal::packet_traits<T>::type bits;

  friend LaneMask operator&&(const LaneMask& a, const LaneMask& b) {
    return {Eigen::internal::pand(a.bits, b.bits)};
  }
  friend LaneMask operator||(const LaneMask& a, const LaneMask& b) {
    return {Eigen::internal::por(a.bits, b.bits)};
  }
  friend LaneMask operator!(const LaneMask& a) {
    return {Eigen::internal::pandnot(Eigen::internal::ptrue(a.bits), a.bits)};
  }
  // Whether the comparison holds in some lane. A comparison with NaN is false, so a NaN lane cannot
  // hide another lane from a range check, as it can from predux_min or predux_max.
  friend bool any_of(const LaneMask& a) { return Eigen::internal::predux_any(a.bits); }
};

template <typename T>
class Lanes {
 public:
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  using Mask = LaneMask<T>;
  static constexpr int size = Eigen::internal::unpacket_traits<Packet>::size;

  Lanes() = default;
  // The same number in every lane: what AutoDiffScalar's constants (S(1), zero derivatives) need.
  Lanes(T value) : packet_(Eigen::internal::pset1<Packet>(value)) {}  // NOLINT: implicit
  explicit Lanes(const Packet& packet) : packet_(packet) {}

  static Lanes load(const T* from) { return Lanes(Eigen::internal::ploadu<Packet>(from)); }
  void store(T* to) const { Eigen::internal::pstoreu(to, packet_); }
  const Packet& packet() const { return packet_; }

  friend Lanes operator+(const Lanes& a, const Lanes& b) {
    return Lanes(Eigen::internal::padd(a.packet_, b.packet_));
  }
  friend Lanes operator-(const Lanes& a, const Lanes& b) {
    return Lanes(Eigen::internal::psub(a.packet_, b.packet_));
  }
  friend Lanes operator*(const Lanes& a, const Lanes& b) {
    return Lanes(Eigen::internal::pmul(a.packet_, b.packet_));
  }
  friend Lanes operator/(const Lanes& a, const Lanes& b) {
    return Lanes(Eigen::internal::pdiv(a.packet_, b.packet_));
  }
  friend Lanes operator-(const Lanes& a) { return Lanes(Eigen::internal::pnegate(a.packet_)); }
  Lanes& operator+=(const Lanes& b) { return *this = *this + b; }
  Lanes& operator-=(const Lanes& b) { return *this = *this - b; }
  Lanes& operator*=(const Lanes& b) { return *this = *this * b; }
  Lanes& operator/=(const Lanes& b) { return *this = *this / b; }

  friend LaneMask<T> operator<(const Lanes& a, const Lanes& b) {
    return {Eigen::internal::pcmp_lt(a.packet_, b.packet_)};
  }
  friend LaneMask<T> operator<=(const Lanes& a, const Lanes& b) {
    return {Eigen::internal::pcmp_le(a.packet_, b.packet_)};
  }
  friend LaneMask<T> operator>(const Lanes& a, const Lanes& b) { return b < a; }
  friend LaneMask<T> operator>=(const Lanes& a, const Lanes& b) { return b <= a; }
  friend LaneMask<T> operator==(const Lanes& a, const Lanes& b) {
    return {Eigen::internal::pcmp_eq(a.packet_, b.packet_)};
  }
  // True where either is NaN, as for numbers.
  friend LaneMask<T> operator!=(const Lanes& a, const Lanes& b) { return !(a == b); }

  friend Lanes sin(const Lanes& x) {
    if constexpr (Eigen::internal::packet_traits<T>::HasSin) {
      return Lanes(Eigen::internal::psin(x.packet_));
    } else if constexpr (reduces_sin_and_cos) {
      if (x.in_reduced_range()) {
        return Lanes(x.reduced_sin_and_cos().first);
      }
    }
    return x.each([](T v) { return std::sin(v); });
  }
  friend Lanes cos(const Lanes& x) {
    if constexpr (Eigen::internal::packet_traits<T>::HasCos) {
      return Lanes(Eigen::internal::pcos(x.packet_));
    } else if constexpr (reduces_sin_and_cos) {
      if (x.in_reduced_range()) {
        return Lanes(x.reduced_sin_and_cos().second);
      }
    }
    return x.each([](T v) { return std::cos(v); });
  }
  // Both from one argument reduction where sin_and_cos_of_doubles or sin_and_cos_of_floats
  // serves; otherwise sin and cos.
  friend std::pair<Lanes, Lanes> sin_and_cos(const Lanes& x) {
    if constexpr (reduces_sin_and_cos) {
      if (x.in_reduced_range()) {
        const auto [s, c] = x.reduced_sin_and_cos();
        return {Lanes(s), Lanes(c)};
      }
    }
    return {sin(x), cos(x)};
  }
  friend Lanes exp(const Lanes& x) {
    // Inside [lowest, highest] the packet exp is exact to an ulp and neither over- nor
    // underflows (and it keeps NaN).
    constexpr T lowest = std::numeric_limits<T>::min_exponent10 * T(2.302585092994046) + 1;
    constexpr T highest = std::numeric_limits<T>::max_exponent10 * T(2.302585092994046) - 1;
    if (!any_of(x < Lanes(lowest) || Lanes(highest) < x)) {
      return Lanes(Eigen::internal::pexp(x.packet_));
    }
    return x.each([](T v) { return std::exp(v); });
  }

  friend Lanes abs(const Lanes& x) { return Lanes(Eigen::internal::pabs(x.packet_)); }
  friend Lanes log1p(const Lanes& x) {
    if constexpr (Eigen::internal::packet_traits<T>::HasLog1p) {
      return Lanes(Eigen::internal::plog1p(x.packet_));
    } else if constexpr (Eigen::internal::packet_traits<T>::HasLog && size > 1) {
      // Eigen 3.4 has a packet log but no log1p for double: the formula its plog1p uses for
      // float (Kahan's, x log(1 + x) / ((1 + x) - 1)).
      return Lanes(Eigen::internal::generic_plog1p(x.packet_));
    } else {
      return x.each([](T v) { return std::log1p(v); });
    }
  }
  friend Lanes tanh(const Lanes& x) {
    if constexpr (Eigen::internal::packet_traits<T>::HasTanh) {
      return Lanes(Eigen::internal::ptanh(x.packet_));
    } else if constexpr (std::is_same_v<T, double> && size > 1) {
      return Lanes(detail::tanh_of_doubles(x.packet_));
    } else {
      return x.each([](T v) { return std::tanh(v); });
    }
  }

  // mask ? a : b, lane by lane.
  friend Lanes where(const LaneMask<T>& mask, const Lanes& a, const Lanes& b) {
    return Lanes(Eigen::internal::pselect(mask.bits, a.packet_, b.packet_));
  }

 private:
  // Packets of doubles, for which Eigen 3.4 has no packet sin and cos (sin_and_cos_of_doubles),
  // and packets of floats, whose psin and pcos are Eigen's psincos_float (sin_and_cos_of_floats).
  static constexpr bool reduces_sin_and_cos =
      size > 1 && ((std::is_same_v<T, double> && !Eigen::internal::packet_traits<T>::HasSin) ||
                   (std::is_same_v<T, float> && Eigen::internal::packet_traits<T>::HasSin &&
                    Eigen::internal::packet_traits<T>::HasCos));

  bool in_reduced_range() const {
    return !any_of(Lanes(detail::reduced_argument_limit<T>) <= abs(*this));
  }

  std::pair<Packet, Packet> reduced_sin_and_cos() const {
    if constexpr (std::is_same_v<T, double>) {
      return detail::sin_and_cos_of_doubles(packet_);
    } else {
      return detail::sin_and_cos_of_floats(packet_);
    }
  }

  template <typename F>
  Lanes each(F&& f) const {
    alignas(alignof(Packet)) T values[size];
    store(values);
    for (T& v : values) {
      v = f(v);
    }
    return load(values);
  }

  Packet packet_;
};

// The plain types evaluated on lanes: those of the library's fast paths.
template <typename T>
inline constexpr bool has_lanes = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <typename S>
struct is_lanes : std::false_type {};
template <typename T>
struct is_lanes<Lanes<T>> : std::true_type {};

// One derivative for each lane.
template <typename T>
using LanesAD = Eigen::AutoDiffScalar<Eigen::Matrix<Lanes<T>, 1, 1>>;

// condition ? a : b for plain scalars and their AutoDiffScalars, so that one formula with where()
// serves lanes and scalars alike.
template <typename S>
S where(bool condition, const S& a, const S& b) {
  return condition ? a : b;
}

// mask ? a : b for the value and the derivative of AutoDiffScalars over lanes.
template <typename T, typename D>
Eigen::AutoDiffScalar<D> where(const LaneMask<T>& mask, const Eigen::AutoDiffScalar<D>& a,
                               const Eigen::AutoDiffScalar<D>& b) {
  typename Eigen::AutoDiffScalar<D>::DerType derivatives(a.derivatives().size());
  for (Index k = 0; k < derivatives.size(); ++k) {
    derivatives(k) = where(mask, a.derivatives()(k), b.derivatives()(k));
  }
  return Eigen::AutoDiffScalar<D>(where(mask, a.value(), b.value()), derivatives);
}

// Activations opt in to evaluation on lanes with `static constexpr bool evaluates_lanes = true`:
// their formula must work on Lanes (no branch on a value, where() instead).
template <typename Act, typename = void>
struct evaluates_lanes : std::false_type {};
template <typename Act>
struct evaluates_lanes<Act, std::void_t<decltype(Act::evaluates_lanes)>>
    : std::bool_constant<Act::evaluates_lanes> {};

}  // namespace eigen_autodiff

namespace Eigen {
// Lanes behave as a real number type towards Eigen's matrices of them (AutoDiffScalar's
// derivative vector).
template <typename T>
struct NumTraits<eigen_autodiff::Lanes<T>> : NumTraits<T> {
  using Real = eigen_autodiff::Lanes<T>;
  using NonInteger = eigen_autodiff::Lanes<T>;
  using Nested = eigen_autodiff::Lanes<T>;
  using Literal = eigen_autodiff::Lanes<T>;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 0,
    ReadCost = 1,
    AddCost = 1,
    MulCost = 1
  };
};

// sin and cos of an AutoDiffScalar over lanes need both functions of the value: computed from one
// argument reduction.
template <typename T, int Rows, int Options, int MaxRows, int MaxCols>
AutoDiffScalar<Matrix<eigen_autodiff::Lanes<T>, Rows, 1, Options, MaxRows, MaxCols>> sin(
    const AutoDiffScalar<Matrix<eigen_autodiff::Lanes<T>, Rows, 1, Options, MaxRows, MaxCols>>& x) {
  const auto [s, c] = sin_and_cos(x.value());
  return {s, x.derivatives() * c};
}

template <typename T, int Rows, int Options, int MaxRows, int MaxCols>
AutoDiffScalar<Matrix<eigen_autodiff::Lanes<T>, Rows, 1, Options, MaxRows, MaxCols>> cos(
    const AutoDiffScalar<Matrix<eigen_autodiff::Lanes<T>, Rows, 1, Options, MaxRows, MaxCols>>& x) {
  const auto [s, c] = sin_and_cos(x.value());
  return {c, x.derivatives() * -s};
}

// Eigen's abs multiplies the derivatives by the int +-1 that a branch on the value picks, which
// nested AutoDiffScalars (no product with an int) and lanes (a mask, not a bool) cannot take;
// this more specialised overload is chosen for every AutoDiffScalar over a vector, the sign
// picked per lane by where(). abs'(0) = 1, as Eigen's.
template <typename S, int Rows, int Options, int MaxRows, int MaxCols>
AutoDiffScalar<Matrix<S, Rows, 1, Options, MaxRows, MaxCols>> abs(
    const AutoDiffScalar<Matrix<S, Rows, 1, Options, MaxRows, MaxCols>>& x) {
  using eigen_autodiff::constant;
  using eigen_autodiff::where;
  using std::abs;
  const S sign = where(eigen_autodiff::innermost_value_of(x) < 0, constant<S>(-1), constant<S>(1));
  return {abs(x.value()), x.derivatives() * sign};
}
}  // namespace Eigen
