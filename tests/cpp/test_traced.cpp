// Tests of custom derivatives and traced programs in C++: every operation against the same
// formula written as a C++ template, on plain scalars and on AutoDiffScalar with one, a dynamic
// number and a fixed number of derivatives; the programs' checks; their use in both modes; and
// evaluation from several threads at once.
#include "eigen_autodiff/article/forward_dynamic.hpp"
#include "eigen_autodiff/core/custom_derivative.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/reverse.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"
#include "eigen_autodiff/traced/interpreter.hpp"
#include "eigen_autodiff/traced/replay.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "check.hpp"

namespace ead = eigen_autodiff;
using ead::Instruction;
using ead::Lane;
using ead::Op;

// Every public template, instantiated for float and double.
#define INSTANTIATE(T)                                                                           \
  template T ead::evaluate(const ead::TracedProgram&, const T&);                                 \
  template ead::ScalarAD<T> ead::evaluate(const ead::TracedProgram&, const ead::ScalarAD<T>&);   \
  template ead::DynamicAD<T> ead::evaluate(const ead::TracedProgram&, const ead::DynamicAD<T>&); \
  template ead::ScalarAD<T> ead::with_derivative(const ead::ScalarAD<T>&, const T&, const T&);
INSTANTIATE(float)
INSTANTIATE(double)

namespace {

// A generic function of v returning the plain scalar type of v, for the reference templates.
#define REFERENCE(expr)                   \
  [](const auto& v) {                     \
    using S = std::decay_t<decltype(v)>;  \
    using std::abs, std::cos, std::cosh;  \
    using std::exp, std::log, std::pow;   \
    using std::sin, std::sinh, std::sqrt; \
    using std::tan, std::tanh, std::erf;  \
    using std::expm1, std::log1p;         \
    using std::atan;                      \
    return S(expr);                       \
  }

template <typename T>
T tolerance() {
  return std::is_same<T, float>::value ? T(1e-5) : T(1e-13);
}

template <typename T>
bool close(T a, T b, T rtol) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b);
  }
  return std::abs(a - b) <= rtol * std::max({std::abs(a), std::abs(b), T(1e-30)});
}

// x with derivatives (1, 2, 3): a DynamicAD whose chain rule is visible in every component.
template <typename AD>
AD seeded(typename AD::Scalar value) {
  using Derivatives = typename AD::DerType;
  Derivatives d;
  if constexpr (Derivatives::SizeAtCompileTime == Eigen::Dynamic) {
    d.resize(3);
  }
  for (Eigen::Index k = 0; k < d.size(); ++k) {
    d(k) = typename AD::Scalar(k + 1);
  }
  return AD(value, d);
}

// The program's value and derivatives agree with the template's, for plain T and three AD types.
template <typename T, typename Reference>
void check_program(const ead::TracedProgram& program, Reference reference, T x, const char* what) {
  const T plain = ead::evaluate(program, x);
  const bool plain_ok = close(plain, T(reference(x)), tolerance<T>());
  check::record(plain_ok, std::string(what) + " value at " + std::to_string(x), __FILE__, __LINE__);

  const auto one = ead::evaluate(program, ead::ScalarAD<T>(x, 1, 0));
  const auto one_expected = reference(ead::ScalarAD<T>(x, 1, 0));
  check::record(close(one.value(), one_expected.value(), tolerance<T>()) &&
                    close(one.derivatives()(0), one_expected.derivatives()(0), tolerance<T>()),
                std::string(what) + " one derivative at " + std::to_string(x), __FILE__, __LINE__);
  // The plain evaluation is the same function as the AD one.
  CHECK(close(plain, one.value(), tolerance<T>()));

  const auto dynamic = ead::evaluate(program, seeded<ead::DynamicAD<T>>(x));
  const auto dynamic_expected = reference(seeded<ead::DynamicAD<T>>(x));
  bool dynamic_ok = dynamic.derivatives().size() == 3;
  for (Eigen::Index k = 0; dynamic_ok && k < 3; ++k) {
    dynamic_ok = close(dynamic.derivatives()(k), dynamic_expected.derivatives()(k), tolerance<T>());
  }
  check::record(dynamic_ok, std::string(what) + " dynamic derivatives at " + std::to_string(x),
                __FILE__, __LINE__);

  const auto fixed = ead::evaluate(program, seeded<ead::FixedAD<T, 4>>(x));
  const auto fixed_expected = reference(seeded<ead::FixedAD<T, 4>>(x));
  bool fixed_ok = true;
  for (Eigen::Index k = 0; k < 4; ++k) {
    fixed_ok =
        fixed_ok && close(fixed.derivatives()(k), fixed_expected.derivatives()(k), tolerance<T>());
  }
  check::record(fixed_ok, std::string(what) + " fixed derivatives at " + std::to_string(x),
                __FILE__, __LINE__);
}

struct Case {
  const char* name;
  std::vector<Instruction> code;
  std::uint16_t output;
};

// Each unary operation, as a one-instruction program, against the same function applied directly.
template <typename T>
void unary_operations_match_direct_calls() {
  const auto one = [](Op op) {
    return ead::TracedProgram({{op, Lane::ad, 1, 0}}, 1, std::string(ead::op_info(op).name));
  };
  for (const T x : {T(0.3), T(1.7), T(2.5)}) {
    check_program<T>(one(Op::neg), REFERENCE(-v), x, "neg");
    check_program<T>(one(Op::sin), REFERENCE(sin(v)), x, "sin");
    check_program<T>(one(Op::cos), REFERENCE(cos(v)), x, "cos");
    check_program<T>(one(Op::tan), REFERENCE(tan(v)), x, "tan");
    check_program<T>(one(Op::exp), REFERENCE(exp(v)), x, "exp");
    check_program<T>(one(Op::log), REFERENCE(log(v)), x, "log");
    check_program<T>(one(Op::sqrt), REFERENCE(sqrt(v)), x, "sqrt");
    check_program<T>(one(Op::tanh), REFERENCE(tanh(v)), x, "tanh");
    check_program<T>(one(Op::sinh), REFERENCE(sinh(v)), x, "sinh");
    check_program<T>(one(Op::cosh), REFERENCE(cosh(v)), x, "cosh");
    check_program<T>(one(Op::abs), REFERENCE(abs(v)), x, "abs");
    check_program<T>(
        one(Op::sigmoid), [](const auto& v) { return ead::activations::Sigmoid{}(v); }, x,
        "sigmoid");
    check_program<T>(
        one(Op::softplus), [](const auto& v) { return ead::activations::Softplus{}(v); }, x,
        "softplus");
    check_program<T>(one(Op::log1p), REFERENCE(log1p(v)), x, "log1p");
    check_program<T>(one(Op::expm1), REFERENCE(expm1(v)), x, "expm1");
    check_program<T>(one(Op::atan), REFERENCE(atan(v)), x, "atan");
    check_program<T>(one(Op::erf), REFERENCE(erf(v)), x, "erf");
  }
}

// Hand-written derivatives of the functions Eigen's AutoDiff module lacks (log1p, expm1, erf),
// and softplus's supplied derivative, against the formulas.
template <typename T>
void supplied_derivatives_match_formulas() {
  for (const T x : {T(-4), T(-0.5), T(0), T(0.25), T(3)}) {
    using std::atan;
    using std::erf;
    using std::expm1;
    using std::log1p;
    const ead::ScalarAD<T> ad(x, 1, 0);
    CHECK_CLOSE(log1p(ad).derivatives()(0), T(1) / (T(1) + x), tolerance<T>());
    CHECK_CLOSE(expm1(ad).derivatives()(0), std::exp(x), tolerance<T>());
    CHECK_CLOSE(atan(ad).derivatives()(0), T(1) / (T(1) + x * x), tolerance<T>());
    CHECK_CLOSE(erf(ad).derivatives()(0), T(1.1283791670955126) * std::exp(-x * x), tolerance<T>());
    const T sigmoid = T(1) / (T(1) + std::exp(-x));
    const auto softplus = ead::activations::Softplus{}(ad);
    CHECK_CLOSE(softplus.derivatives()(0), sigmoid, tolerance<T>());
    CHECK_CLOSE(softplus.value(), std::log(T(1) + std::exp(x)), tolerance<T>());
  }
  // Far out, the softplus derivative is the sigmoid's tail, not 0 from a cancellation.
  const auto far = ead::activations::Softplus{}(ead::ScalarAD<double>(-700.0, 1, 0));
  CHECK(far.derivatives()(0) > 0 && close(far.derivatives()(0), std::exp(-700.0), 1e-13));
}

// Programs of lane operations (conditions and select included) run a packet of elements at a time
// (runs_on_lanes): the values, first and second derivatives over many points (with a partial last
// packet) are those of the program evaluated one point at a time, to 4 ulps (the second derivative
// at the scale of the first too, as in test_core); programs with other operations keep the scalar
// path.
template <typename T>
void lane_programs_match_one_point_at_a_time() {
  const ead::TracedProgram sigmoid({{Op::sigmoid, Lane::ad, 1, 0}}, 1, "sigmoid");
  const ead::TracedProgram naive_sigmoid({{Op::neg, Lane::ad, 1, 0},
                                          {Op::exp, Lane::ad, 1, 1},
                                          {Op::add_const, Lane::ad, 1, 1, 0, 0, 1.0},
                                          {Op::const_div, Lane::ad, 1, 1, 0, 0, 1.0}},
                                         1, "1/(1+exp(-x))");
  const ead::TracedProgram swish({{Op::sigmoid, Lane::ad, 1, 0}, {Op::mul, Lane::ad, 2, 0, 1}}, 2,
                                 "swish");
  const ead::TracedProgram mixed({{Op::sin, Lane::ad, 1, 0},
                                  {Op::cos, Lane::ad, 2, 0},
                                  {Op::mul_const, Lane::ad, 2, 2, 0, 0, 0.5},
                                  {Op::div_const, Lane::ad, 1, 1, 0, 0, 3.0},
                                  {Op::const_sub, Lane::ad, 1, 1, 0, 0, 2.0},
                                  {Op::sub, Lane::ad, 3, 1, 2},
                                  {Op::constant, Lane::ad, 1, 0, 0, 0, 4.0},
                                  {Op::div, Lane::ad, 2, 3, 1},
                                  {Op::add, Lane::ad, 1, 2, 0}},
                                 1, "mixed");
  // The stable sigmoid written with where: where(x >= 0, 1 / (1 + exp(-x)), exp(x) / (1 + exp(x))).
  const ead::TracedProgram where_sigmoid({{Op::ge_const, Lane::ad, 0, 0, 0, 0, 0.0},
                                          {Op::neg, Lane::ad, 1, 0},
                                          {Op::exp, Lane::ad, 1, 1},
                                          {Op::add_const, Lane::ad, 1, 1, 0, 0, 1.0},
                                          {Op::const_div, Lane::ad, 1, 1, 0, 0, 1.0},
                                          {Op::exp, Lane::ad, 2, 0},
                                          {Op::add_const, Lane::ad, 3, 2, 0, 0, 1.0},
                                          {Op::div, Lane::ad, 2, 2, 3},
                                          {Op::select, Lane::ad, 3, 1, 2, 0}},
                                         3, "where sigmoid");
  // where(-2 < x and not x == 1 or x != x, max(tanh(x), softplus(x) - 1), min(x, 0.5)): every
  // comparison and logical operation, maximum and minimum (NaN propagated), tanh and softplus.
  const ead::TracedProgram conditions({{Op::constant, Lane::ad, 1, 0, 0, 0, -2.0},
                                       {Op::lt, Lane::ad, 0, 1, 0},
                                       {Op::eq_const, Lane::ad, 1, 0, 0, 0, 1.0},
                                       {Op::logical_not, Lane::ad, 1, 1},
                                       {Op::logical_and, Lane::ad, 0, 0, 1},
                                       {Op::ne, Lane::ad, 1, 0, 0},
                                       {Op::logical_or, Lane::ad, 0, 0, 1},
                                       {Op::le_const, Lane::ad, 2, 0, 0, 0, 7.0},
                                       {Op::gt_const, Lane::ad, 3, 0, 0, 0, -9.0},
                                       {Op::logical_and, Lane::ad, 2, 2, 3},
                                       {Op::lt_const, Lane::ad, 3, 0, 0, 0, 30.0},
                                       {Op::ne_const, Lane::ad, 4, 0, 0, 0, 3.0},
                                       {Op::le, Lane::ad, 5, 0, 0},
                                       {Op::logical_and, Lane::ad, 3, 3, 4},
                                       {Op::logical_and, Lane::ad, 3, 3, 5},
                                       {Op::tanh, Lane::ad, 1, 0},
                                       {Op::softplus, Lane::ad, 2, 0},
                                       {Op::add_const, Lane::ad, 2, 2, 0, 0, -1.0},
                                       {Op::maximum, Lane::ad, 1, 1, 2},
                                       {Op::constant, Lane::ad, 2, 0, 0, 0, 0.5},
                                       {Op::minimum, Lane::ad, 2, 0, 2},
                                       {Op::select, Lane::ad, 4, 1, 2, 0},
                                       {Op::select, Lane::ad, 4, 4, 0, 2},
                                       {Op::select, Lane::ad, 1, 4, 1, 3}},
                                      1, "conditions");
  const ead::TracedProgram not_lanes({{Op::atan, Lane::ad, 1, 0}}, 1, "atan");
  CHECK(ead::runs_on_lanes<T>(sigmoid) && ead::runs_on_lanes<T>(naive_sigmoid) &&
        ead::runs_on_lanes<T>(swish) && ead::runs_on_lanes<T>(mixed) &&
        ead::runs_on_lanes<T>(where_sigmoid) && ead::runs_on_lanes<T>(conditions));
  CHECK(!ead::runs_on_lanes<T>(not_lanes));
  std::vector<T> x = {T(0), T(-100), T(100), T(-745), std::numeric_limits<T>::quiet_NaN(), T(-2),
                      T(1), T(7),    T(-9),  T(3),    std::numeric_limits<T>::infinity()};
  for (int k = 0; x.size() < 101; ++k) {
    x.push_back(T(-20) + T(0.37) * T(k));
  }
  const auto n = static_cast<ead::Index>(x.size());
  const auto close = [](T a, T b, T scale = 0) {
    return (std::isnan(a) && std::isnan(b)) || a == b ||
           std::abs(a - b) <=
               4 * std::numeric_limits<T>::epsilon() * std::max(std::abs(b), std::abs(scale));
  };
  for (const auto* program :
       {&sigmoid, &naive_sigmoid, &swish, &mixed, &where_sigmoid, &conditions, &not_lanes}) {
    const ead::TracedActivation activation{program};
    std::vector<T> value(x.size()), derivative(x.size()), values_only(x.size());
    ead::activation_value_and_derivative(activation, x.data(), value.data(), derivative.data(), n);
    ead::activation_values(activation, x.data(), values_only.data(), n);
    std::vector<T> value2(x.size()), first(x.size()), second(x.size());
    ead::second_derivative(activation, x.data(), value2.data(), first.data(), second.data(), n);
    bool all_close = true;
    for (std::size_t k = 0; k < x.size(); ++k) {
      const ead::ScalarAD<T> one = ead::evaluate(*program, ead::ScalarAD<T>(x[k], 1, 0));
      const ead::SecondOrderAD<T> twice =
          ead::evaluate(*program, ead::detail::seeded_twice(x[k], T(1)));
      const T first_one = twice.derivatives()(0).value();
      all_close = all_close && close(value[k], one.value()) &&
                  close(derivative[k], one.derivatives()(0)) &&
                  close(values_only[k], one.value()) && close(value2[k], twice.value().value()) &&
                  close(first[k], first_one) &&
                  close(second[k], ead::detail::second_along(twice), first_one);
    }
    CHECK(all_close);
  }
}

// swish, x ** 3 + 2 ** x, relu by select, and a rational function, each against the template.
template <typename T>
void composite_programs_match_templates() {
  const ead::TracedProgram swish({{Op::sigmoid, Lane::ad, 1, 0}, {Op::mul, Lane::ad, 2, 0, 1}}, 2,
                                 "swish");
  const ead::TracedProgram powers({{Op::pow_const, Lane::ad, 1, 0, 0, 0, 3.0},
                                   {Op::const_pow, Lane::ad, 2, 0, 0, 0, 2.0},
                                   {Op::add, Lane::ad, 3, 1, 2}},
                                  3, "powers");
  const ead::TracedProgram relu({{Op::gt_const, Lane::ad, 0, 0, 0, 0, 0.0},
                                 {Op::constant, Lane::ad, 1, 0, 0, 0, 0.0},
                                 {Op::select, Lane::ad, 2, 0, 1, 0}},
                                2, "relu");
  // (x^2 + 1) / (x - 3) - 1/x
  const ead::TracedProgram rational({{Op::mul, Lane::ad, 1, 0, 0},
                                     {Op::add_const, Lane::ad, 2, 1, 0, 0, 1.0},
                                     {Op::add_const, Lane::ad, 1, 0, 0, 0, -3.0},
                                     {Op::div, Lane::ad, 3, 2, 1},
                                     {Op::const_div, Lane::ad, 1, 0, 0, 0, 1.0},
                                     {Op::sub, Lane::ad, 2, 3, 1}},
                                    2, "rational");
  for (const T x : {T(-1.5), T(0.7), T(2)}) {
    check_program<T>(swish, REFERENCE(v * ead::activations::Sigmoid{}(v)), x, "swish");
    check_program<T>(powers,
                     REFERENCE(pow(v, typename ead::value_type_t<S>(3)) +
                               exp(v * log(typename ead::value_type_t<S>(2)))),
                     x, "powers");
    check_program<T>(relu, [](const auto& v) { return ead::activations::Relu{}(v); }, x, "relu");
    check_program<T>(rational, REFERENCE((v * v + T(1)) / (v - T(3)) - T(1) / v), x, "rational");
  }
  // 2 ** 10 comes from pow itself: exact.
  CHECK(ead::evaluate(powers, T(2)) == T(8 + 4));
  CHECK(ead::evaluate(powers, ead::ScalarAD<T>(T(10), 1, 0)).value() == T(1000 + 1024));
}

// maximum(a, b) is where(a > b, a, b) with NaN propagated; the derivative at a tie is b's.
template <typename T>
void maximum_and_minimum_conventions() {
  const ead::TracedProgram max_with_zero(
      {{Op::constant, Lane::ad, 1, 0, 0, 0, 0.0}, {Op::maximum, Lane::ad, 2, 0, 1}}, 2, "max");
  const ead::TracedProgram min_of_zero(
      {{Op::constant, Lane::ad, 1, 0, 0, 0, 0.0}, {Op::minimum, Lane::ad, 2, 1, 0}}, 2, "min");
  const auto at = [](const ead::TracedProgram& p, T x) {
    return ead::evaluate(p, ead::ScalarAD<T>(x, 1, 0));
  };
  CHECK(at(max_with_zero, T(0)).derivatives()(0) == 0);  // relu'(0) = 0
  CHECK(at(max_with_zero, T(2)).derivatives()(0) == 1);
  CHECK(at(max_with_zero, T(-2)).derivatives()(0) == 0);
  CHECK(std::isnan(at(max_with_zero, std::numeric_limits<T>::quiet_NaN()).value()));
  CHECK(at(min_of_zero, T(0)).derivatives()(0) == 1);  // the second argument, x
  CHECK(at(min_of_zero, T(-2)).value() == T(-2));
  CHECK(std::isnan(ead::evaluate(min_of_zero, std::numeric_limits<T>::quiet_NaN())));
  // The constant's derivatives are zeros as long as x's, never an empty vector.
  const auto dynamic = ead::evaluate(max_with_zero, seeded<ead::DynamicAD<T>>(T(-1)));
  CHECK(dynamic.derivatives().size() == 3 && dynamic.derivatives().isZero());
}

// Both branches are computed, but only the chosen one's derivative is kept: a NaN or infinite
// derivative in the other branch does not leak.
void select_does_not_leak_the_other_branch() {
  // where(x > 0, sqrt(x), 0): sqrt's derivative at -1 is NaN, at 0 infinite.
  const ead::TracedProgram p({{Op::sqrt, Lane::ad, 1, 0},
                              {Op::constant, Lane::ad, 2, 0, 0, 0, 0.0},
                              {Op::gt_const, Lane::ad, 0, 0, 0, 0, 0.0},
                              {Op::select, Lane::ad, 3, 1, 2, 0}},
                             3, "safe_sqrt");
  for (const double x : {-1.0, 0.0}) {
    const auto y = ead::evaluate(p, ead::ScalarAD<double>(x, 1, 0));
    CHECK(y.value() == 0 && y.derivatives()(0) == 0);
  }
}

// The article's fix as a program: value and derivative in the value lane, joined by chain.
ead::TracedProgram stable_inv_exp_program() {
  return ead::TracedProgram({{Op::value, Lane::value, 0, 0},
                             {Op::exp, Lane::value, 1, 0},
                             {Op::const_div, Lane::value, 2, 1, 0, 0, 1.0},
                             {Op::neg, Lane::value, 1, 0},
                             {Op::exp, Lane::value, 3, 1},
                             {Op::neg, Lane::value, 1, 3},
                             {Op::chain, Lane::ad, 1, 2, 0, 1}},
                            1, "stable_inv_exp");
}

template <typename T>
void custom_derivatives_fix_the_articles_nan() {
  const auto naive = REFERENCE(1 / exp(v));
  const auto stable = ead::custom_derivative([](T v) { return T(1) / std::exp(v); },
                                             [](T v) { return -std::exp(-v); });
  const ead::TracedProgram program = stable_inv_exp_program();
  const ead::ScalarAD<T> x(T(100), 1, 0);
  for (const auto& y : {stable(x), ead::evaluate(program, x)}) {
    CHECK(std::isfinite(y.derivatives()(0)) && std::signbit(y.derivatives()(0)));
    CHECK(y.derivatives()(0) == -std::exp(-T(100)));
  }
  if constexpr (std::is_same<T, float>::value) {
    CHECK(std::isnan(naive(x).derivatives()(0)));  // the article's NaN
  }
  // The chain rule: d/dx stable(3x) = 3 * -exp(-3x), in every derivative component.
  const ead::DynamicAD<T> inner = seeded<ead::DynamicAD<T>>(T(0.5)) * T(3);
  const auto outer = stable(inner);
  for (Eigen::Index k = 0; k < 3; ++k) {
    CHECK_CLOSE(outer.derivatives()(k), T(3 * (k + 1)) * -std::exp(-T(1.5)), tolerance<T>());
  }
  CHECK_CLOSE(ead::evaluate(program, inner).derivatives()(2), outer.derivatives()(2),
              tolerance<T>());
  // On a plain scalar only the value function runs.
  int derivative_calls = 0;
  const auto counted = ead::custom_derivative([](T v) { return v; },
                                              [&derivative_calls](T) {
                                                ++derivative_calls;
                                                return T(1);
                                              });
  CHECK(counted(T(2)) == T(2) && derivative_calls == 0);
  CHECK(counted(ead::ScalarAD<T>(T(2), 1, 0)).derivatives()(0) == 1 && derivative_calls == 1);
  // And the program's plain evaluation skips the derivative function's instructions.
  CHECK(program.value_code().size() == 4 && program.derivative_code().size() == 7);
  CHECK(ead::evaluate(program, T(100)) == T(1) / std::exp(T(100)));
}

void programs_are_checked_when_built() {
  using P = ead::TracedProgram;
  // Reading a register no instruction wrote.
  CHECK_THROWS(std::invalid_argument, P({{Op::add, Lane::ad, 1, 0, 3}}, 1));
  CHECK_THROWS(std::invalid_argument, P({{Op::sin, Lane::value, 0, 0}}, 0));
  CHECK_THROWS(std::invalid_argument, P({{Op::select, Lane::ad, 1, 0, 0, 0}}, 1));
  // An output nobody wrote.
  CHECK_THROWS(std::invalid_argument, P({{Op::sin, Lane::ad, 1, 0}}, 2));
  // value writes the value lane, chain the ad lane.
  CHECK_THROWS(std::invalid_argument, P({{Op::value, Lane::ad, 1, 0}}, 1));
  CHECK_THROWS(std::invalid_argument,
               P({{Op::value, Lane::value, 0, 0}, {Op::chain, Lane::value, 1, 0, 0, 0}}, 0));
  // An operation code out of range.
  CHECK_THROWS(std::invalid_argument, P({{static_cast<Op>(250), Lane::ad, 1, 0}}, 1));
  CHECK_THROWS(std::invalid_argument, ead::op_from_name("floor"));
  CHECK(ead::op_from_name("const_pow") == Op::const_pow);
  CHECK_THROWS(std::invalid_argument, ead::lane_from_name("plain"));
  // The identity: no instructions, the output is x itself.
  const P identity({}, 0, "identity");
  CHECK(ead::evaluate(identity, 2.5) == 2.5);
  CHECK(ead::evaluate(identity, ead::ScalarAD<double>(2.5, 1, 0)).derivatives()(0) == 1);
  // The listing names the registers by bank.
  const P relu({{Op::gt_const, Lane::ad, 0, 0, 0, 0, 0.0},
                {Op::constant, Lane::ad, 1, 0, 0, 0, 0.0},
                {Op::select, Lane::ad, 2, 0, 1, 0}},
               2, "relu");
  CHECK(relu.disassemble() ==
        "c0 = gt_const a0, 0\na1 = constant 0\na2 = select a0, a1, c0\nreturn a2");
  // Dead instructions are not run.
  const P dead({{Op::exp, Lane::ad, 1, 0}, {Op::sin, Lane::ad, 2, 0}}, 2, "dead");
  CHECK(dead.derivative_code().size() == 1 && dead.value_code().size() == 1);
}

// More live values than the registers kept on the stack: the heap path gives the same result.
void programs_with_many_registers() {
  // a_k = x + k for k = 1..40, all live, then summed.
  std::vector<Instruction> code;
  for (std::uint16_t k = 1; k <= 40; ++k) {
    code.push_back({Op::add_const, Lane::ad, k, 0, 0, 0, double(k)});
  }
  for (std::uint16_t k = 2; k <= 40; ++k) {
    code.push_back({Op::add, Lane::ad, 1, 1, k});
  }
  const ead::TracedProgram p(code, 1, "many");
  CHECK(p.registers(ead::TracedProgram::ad_bank) == 41);
  const auto y = ead::evaluate(p, seeded<ead::DynamicAD<double>>(1.0));
  CHECK(y.value() == 40 + 40 * 41 / 2 && y.derivatives()(2) == 3 * 40);
  CHECK(ead::evaluate(p, 1.0f) == 40 + 40 * 41 / 2);
}

// A traced sigmoid gives the built-in's loss and gradients in reverse and forward mode.
template <typename T>
void traced_activation_in_both_modes() {
  std::mt19937 gen(5);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const ead::Index b = 5, n = 4, m = 3;
  std::vector<T> x(b * n), w(n * m);
  for (auto* v : {&x, &w}) {
    for (T& e : *v) {
      e = static_cast<T>(uniform(gen));
    }
  }
  const ead::ConstMatrixView<T> xv(x.data(), b, n), wv(w.data(), n, m);
  const ead::TracedProgram sigmoid({{Op::neg, Lane::ad, 1, 0},
                                    {Op::exp, Lane::ad, 2, 1},
                                    {Op::add_const, Lane::ad, 1, 2, 0, 0, 1.0},
                                    {Op::const_div, Lane::ad, 2, 1, 0, 0, 1.0}},
                                   2, "sigmoid");
  const ead::TracedActivation traced{&sigmoid};
  Eigen::ThreadPool pool(2);
  Eigen::ThreadPoolDevice device(&pool, 2);
  const ead::DenseLayer<T> layer(xv, wv);
  const ead::SquaredError<T> loss;
  std::vector<T> dx_b(b * n), dw_b(n * m), dx_t(b * n), dw_t(n * m);
  const double loss_b = ead::value_and_grad_reverse(device, layer, ead::activations::Sigmoid{},
                                                    loss, {dx_b.data(), dw_b.data(), nullptr});
  const auto agrees_with_builtin = [&](double value) {
    CHECK_CLOSE(value, loss_b, 10 * tolerance<T>());
    for (std::size_t k = 0; k < dw_b.size(); ++k) {
      CHECK(close(dw_t[k], dw_b[k], T(10) * tolerance<T>()));
    }
    for (std::size_t k = 0; k < dx_b.size(); ++k) {
      CHECK(close(dx_t[k], dx_b[k], T(10) * tolerance<T>()));
    }
  };
  for (const auto& [name, mode] : ead::modes) {
    agrees_with_builtin(ead::value_and_grad(device, mode, layer, traced, loss,
                                            {dx_t.data(), dw_t.data(), nullptr}));
  }
  std::vector<T> y_b(b * m), y_t(b * m);
  ead::layer_values(device, layer, ead::activations::Sigmoid{},
                    ead::MatrixView<T>(y_b.data(), b, m));
  ead::layer_values(device, layer, traced, ead::MatrixView<T>(y_t.data(), b, m));
  for (std::size_t k = 0; k < y_b.size(); ++k) {
    CHECK(close(y_t[k], y_b[k], T(10) * tolerance<T>()));
  }
}

// Evaluation only reads the program: threads evaluating one program at once agree with one
// thread.
void one_program_from_many_threads() {
  const ead::TracedProgram program = stable_inv_exp_program();
  const int threads = 4;
  const int per_thread = 20000;
  std::vector<double> serial(threads * per_thread), parallel(serial.size());
  const auto fill = [&](std::vector<double>& out, int t) {
    for (int k = 0; k < per_thread; ++k) {
      const double x = -5 + 10.0 * (t * per_thread + k) / (threads * per_thread);
      out[t * per_thread + k] =
          ead::evaluate(program, ead::ScalarAD<double>(x, 1, 0)).derivatives()(0);
    }
  };
  for (int t = 0; t < threads; ++t) {
    fill(serial, t);
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(fill, std::ref(parallel), t);
  }
  for (auto& thread : pool) {
    thread.join();
  }
  CHECK(serial == parallel);
}

}  // namespace

template std::vector<ead::ReplayStep<float>> ead::replay(const ead::TracedProgram&, float);
template std::vector<ead::ReplayStep<double>> ead::replay(const ead::TracedProgram&, double);

// The replay records what each instruction wrote; its last step is the program's result.
template <typename T>
void replay_ends_with_the_result() {
  const ead::TracedProgram sigmoid({{Op::neg, Lane::ad, 1, 0},
                                    {Op::exp, Lane::ad, 2, 1},
                                    {Op::add_const, Lane::ad, 1, 2, 0, 0, 1.0},
                                    {Op::const_div, Lane::ad, 2, 1, 0, 0, 1.0}},
                                   2, "sigmoid");
  const T x = T(0.75);
  const auto steps = ead::replay(sigmoid, x);
  CHECK(steps.size() == 4);
  const auto result = ead::evaluate(sigmoid, ead::ScalarAD<T>(x, 1, 0));
  CHECK(steps.back().result.value == result.value());
  CHECK(steps.back().result.derivative == result.derivatives()(0));
  CHECK(steps[1].operands[0].value == -x);             // exp reads -x
  CHECK(steps[1].operands[0].derivative == T(-1));     // whose derivative w.r.t. x is -1
  CHECK(steps[1].result.value == std::exp(-x));        // exp(-x)
  CHECK(steps[1].result.derivative == -std::exp(-x));  // its derivative w.r.t. x
  CHECK(steps[3].operands[0].value == T(1) + std::exp(-x));
  CHECK(std::isnan(steps[3].operands[1].derivative));  // const_div has one operand
}

// A single-assignment graph becomes a program: registers reused once a value's last use has
// passed, nodes the output does not need dropped, and bad graphs refused.
void programs_from_graphs() {
  using Node = ead::TracedProgram::Node;
  // x * sigmoid(x) written with exp, plus a node nobody uses.
  const std::vector<Node> graph = {
      {Op::neg, Lane::ad, {0, 0, 0}, 0},          // 1: -x
      {Op::exp, Lane::ad, {1, 0, 0}, 0},          // 2: exp(-x)
      {Op::sin, Lane::ad, {0, 0, 0}, 0},          // 3: unused
      {Op::add_const, Lane::ad, {2, 0, 0}, 1.0},  // 4: 1 + exp(-x)
      {Op::div, Lane::ad, {0, 4, 0}, 0},          // 5: x / (1 + exp(-x))
  };
  const auto program = ead::TracedProgram::from_graph(graph, 5, "swish");
  CHECK(program.registers(ead::TracedProgram::ad_bank) == 3);
  CHECK(program.derivative_code().size() == 4);
  for (const double x : {-3.0, 0.0, 0.5, 4.0}) {
    const auto y = ead::evaluate(program, ead::ScalarAD<double>(x, 1, 0));
    const double s = 1 / (1 + std::exp(-x));
    CHECK_CLOSE(y.value(), x * s, 1e-15);
    CHECK_CLOSE(y.derivatives()(0), s + x * s * (1 - s), 1e-14);
  }
  // The same node read twice: x * x.
  const auto square = ead::TracedProgram::from_graph({{Op::mul, Lane::ad, {0, 0, 0}, 0}}, 1);
  CHECK(ead::evaluate(square, 3.0) == 9.0);
  CHECK_INVALID(ead::TracedProgram::from_graph({{Op::sin, Lane::ad, {1, 0, 0}, 0}}, 1),
                "is not an earlier node");
  CHECK_INVALID(ead::TracedProgram::from_graph({{Op::lt_const, Lane::ad, {0, 0, 0}, 0}}, 1),
                "is not a node of the ad lane");
  CHECK_INVALID(ead::TracedProgram::from_graph(
                    {{Op::lt_const, Lane::ad, {0, 0, 0}, 0}, {Op::sin, Lane::ad, {1, 0, 0}, 0}}, 2),
                "wrong register bank");
  // 70000 values all live until a sum at the end needs them: more than registers can number.
  std::vector<Node> wide;
  const std::size_t n = 70000;
  for (std::size_t k = 0; k < n; ++k) {
    wide.push_back({Op::add_const, Lane::ad, {0, 0, 0}, static_cast<double>(k)});
  }
  std::size_t sum = 1;
  for (std::size_t k = 2; k <= n; ++k) {
    wide.push_back({Op::add, Lane::ad, {sum, k, 0}, 0});
    sum = wide.size();
  }
  CHECK_INVALID(ead::TracedProgram::from_graph(wide, sum, "wide"),
                "traced program 'wide': activation too large: 70001 live values, at most 65535");
}

int main() {
  replay_ends_with_the_result<float>();
  replay_ends_with_the_result<double>();
  programs_from_graphs();
  unary_operations_match_direct_calls<float>();
  unary_operations_match_direct_calls<double>();
  supplied_derivatives_match_formulas<float>();
  supplied_derivatives_match_formulas<double>();
  composite_programs_match_templates<float>();
  composite_programs_match_templates<double>();
  lane_programs_match_one_point_at_a_time<float>();
  lane_programs_match_one_point_at_a_time<double>();
  maximum_and_minimum_conventions<float>();
  maximum_and_minimum_conventions<double>();
  select_does_not_leak_the_other_branch();
  custom_derivatives_fix_the_articles_nan<float>();
  custom_derivatives_fix_the_articles_nan<double>();
  programs_are_checked_when_built();
  programs_with_many_registers();
  traced_activation_in_both_modes<float>();
  traced_activation_in_both_modes<double>();
  one_program_from_many_threads();
  return check::summary();
}
