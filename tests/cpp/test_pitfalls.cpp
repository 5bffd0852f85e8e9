// AutoDiffScalar's pitfalls, pinned down: constants with empty derivative vectors mixed with
// seeded values, derivative vectors of different sizes, default-constructed scalars, and the
// elementary functions at their special points (the conventions README.md documents).
#include "eigen_autodiff/article/layer.hpp"

#include <cmath>
#include <limits>

#include "check.hpp"

namespace ead = eigen_autodiff;

namespace {

using AD = ead::DynamicAD<double>;
using Fixed3 = ead::FixedAD<double, 3>;

// x*y*z with only z seeded: in one expression Eigen 3.4 combines the two empty vectors into an
// expression make_coherent cannot resize, which eigen_setup.hpp turns into an exception (never a
// wrong number); step by step, or with zero vectors of the full length, it is right.
void product_of_constants_and_one_seeded_value() {
  const AD x(2.0);
  const AD y(3.0);
  const AD z(4.0, 1, 0);
  CHECK_THROWS(ead::eigen_assertion_error, AD r = x * y * z; (void)r);
  // The failed expression resized x's empty vector in place (see below): fresh constants.
  CHECK(x.derivatives().size() == 1);
  const AD x2(2.0);
  const AD y2(3.0);
  const AD xy = x2 * y2;
  CHECK(xy.derivatives().size() == 0);
  const AD xyz = xy * z;
  CHECK(xyz.value() == 24.0 && xyz.derivatives().size() == 1 && xyz.derivatives()(0) == 6.0);
  // Seeded first, constants after: make_coherent resizes the constants one at a time.
  const AD zxy = z * AD(2.0) * AD(3.0);
  CHECK(zxy.derivatives().size() == 1 && zxy.derivatives()(0) == 6.0);
  // Zero vectors of the full length, as the library makes its constants.
  const AD x_sized(2.0, Eigen::VectorXd::Zero(1));
  const AD y_sized(3.0, Eigen::VectorXd::Zero(1));
  CHECK((x_sized * y_sized * z).derivatives()(0) == 6.0);
  // With several seeds, only z's slot is non-zero.
  const AD z3(4.0, 3, 2);
  const AD sized3 = AD(2.0, Eigen::VectorXd::Zero(3)) * AD(3.0, Eigen::VectorXd::Zero(3)) * z3;
  CHECK(sized3.derivatives() == Eigen::Vector3d(0.0, 0.0, 6.0));
}

// (c + c) * x: a sum of constants is a constant (still empty), then scaled by a seeded value.
void sum_of_constants_times_seeded_value() {
  const AD c(1.5);
  const AD x(2.0, 2, 1);
  const AD cc = c + c;
  CHECK(cc.value() == 3.0 && cc.derivatives().size() == 0);
  const AD r = (c + c) * x;
  CHECK(r.value() == 6.0 && r.derivatives() == Eigen::Vector2d(0.0, 3.0));
  CHECK(((c + c) * x).derivatives() == (x * (c + c)).derivatives());
  CHECK(((c - c) * x).derivatives() == Eigen::Vector2d(0.0, 0.0));
  CHECK((c / x).derivatives() == Eigen::Vector2d(0.0, -1.5 / 4.0));
  // Accumulating from a constant, as sum_of_squares does: the first += sizes the total.
  AD total(0.0);
  total += x * x;
  total += c * x;
  CHECK(total.derivatives() == Eigen::Vector2d(0.0, 2 * 2.0 + 1.5));
}

// Seeded vectors of different sizes cannot be combined: an exception, never a silent mix.
void derivative_vectors_of_different_sizes() {
  const AD a(1.0, 2, 0);
  const AD b(1.0, 3, 0);
  CHECK_THROWS(ead::eigen_assertion_error, AD r = a * b; (void)r);
  CHECK_THROWS(ead::eigen_assertion_error, AD r = a + b; (void)r);
  CHECK_THROWS(ead::eigen_assertion_error, AD r = a - b; (void)r);
  AD c = a;
  CHECK_THROWS(ead::eigen_assertion_error, c += b);
  // An empty vector is the one size that mixes with any other, but only once: make_coherent
  // resizes it in place, through const, to the size of the first seeded value it meets.
  const AD constant(5.0);
  CHECK((a * constant).derivatives().size() == 2);
  CHECK(constant.derivatives().size() == 2 && constant.derivatives().isZero());
  CHECK_THROWS(ead::eigen_assertion_error, AD r = b + constant; (void)r);
  CHECK((b + AD(5.0)).derivatives().size() == 3);
}

// A default-constructed AutoDiffScalar has an unspecified value (reading it is undefined): it is
// only ever assigned to. Dynamic ones start with empty derivatives; fixed-size ones with
// unspecified derivatives until assigned, and a plain value assigned to them zeroes them.
void default_constructed_values() {
  AD dynamic;
  CHECK(dynamic.derivatives().size() == 0);
  dynamic = 4.0;
  CHECK(dynamic.value() == 4.0 && dynamic.derivatives().size() == 0);
  const AD seeded(2.0, 2, 0);
  dynamic = seeded;
  CHECK(dynamic.derivatives() == Eigen::Vector2d(1.0, 0.0));

  Fixed3 fixed;
  fixed = 4.0;
  CHECK(fixed.value() == 4.0 && fixed.derivatives() == Eigen::Vector3d::Zero());
  const Fixed3 constant(2.0);  // a constant of a fixed size carries zeros, never garbage
  CHECK(constant.derivatives() == Eigen::Vector3d::Zero());
  const Fixed3 x(3.0, 3, 1);
  CHECK((constant * x).derivatives() == Eigen::Vector3d(0.0, 2.0, 0.0));
  // Tensors of AD scalars default-construct their entries; convert assigns every one.
  Eigen::Tensor<double, 2> values(2, 2);
  values.setValues({{1.0, 2.0}, {3.0, 4.0}});
  const auto seeded_tensor = ead::convert(values, 0, 4);
  for (ead::Index k = 0; k < 4; ++k) {
    CHECK(seeded_tensor.data()[k].derivatives().size() == 4);
  }
  const auto constants = ead::convert(values);
  CHECK(constants(1, 1).value() == 4.0 && constants(1, 1).derivatives().size() == 0);
}

// Eigen's derivative formulas at 0, as they are (README: "Conventions at special points").
void functions_at_special_points() {
  using std::abs;
  using std::pow;
  using std::sqrt;
  const double inf = std::numeric_limits<double>::infinity();
  const AD zero(0.0, 1, 0);
  const auto d = [](const AD& r) { return r.derivatives()(0); };
  // pow(x, a)' = a * pow(x, a - 1), evaluated as written.
  CHECK(pow(zero, 0.0).value() == 1.0 && std::isnan(d(pow(zero, 0.0))));  // 0 * pow(0, -1)
  CHECK(pow(zero, 0.5).value() == 0.0 && d(pow(zero, 0.5)) == inf);       // 0.5 / sqrt(0)
  CHECK(pow(zero, 1.0).value() == 0.0 && d(pow(zero, 1.0)) == 1.0);       // pow(0, 0) = 1
  CHECK(pow(zero, 2.0).value() == 0.0 && d(pow(zero, 2.0)) == 0.0);
  CHECK(pow(zero, -3.0).value() == inf && d(pow(zero, -3.0)) == -inf);  // -3 / 0**4
  CHECK(sqrt(zero).value() == 0.0 && d(sqrt(zero)) == inf);             // 0.5 / sqrt(0)
  CHECK(abs(zero).value() == 0.0 && d(abs(zero)) == 1.0);               // sign taken as +1
  CHECK(d(abs(AD(-0.0, 1, 0))) == 1.0);                                 // -0.0 < 0 is false
  CHECK(d(abs(AD(-1.0, 1, 0))) == -1.0);
  // A constant carrying a zero vector (as the library's constants do) at such a point: the
  // zero derivative times an infinite slope is NaN, where an empty vector stays empty.
  const AD zero_constant(0.0, Eigen::VectorXd::Zero(1));
  CHECK(std::isnan(d(sqrt(zero_constant))));
  CHECK(sqrt(AD(0.0)).derivatives().size() == 0);
  // Away from the special points the formulas are the usual ones.
  const AD two(2.0, 1, 0);
  CHECK(d(pow(two, -3.0)) == -3.0 / 16.0 && d(sqrt(AD(4.0, 1, 0))) == 0.25);
}

// The library's own fix for relu: a zero of the same derivative size as its argument.
void zero_like_keeps_the_derivative_size() {
  const AD x(-1.0, 3, 2);
  const AD z = ead::zero_like(x);
  CHECK(z.value() == 0.0 && z.derivatives() == Eigen::Vector3d::Zero());
  CHECK((z + x).derivatives() == Eigen::Vector3d(0.0, 0.0, 1.0));
  CHECK(ead::zero_like(2.5) == 0.0);
}

}  // namespace

int main() {
  product_of_constants_and_one_seeded_value();
  sum_of_constants_times_seeded_value();
  derivative_vectors_of_different_sizes();
  default_constructed_values();
  functions_at_special_points();
  zero_like_keeps_the_derivative_size();
  return check::summary();
}
