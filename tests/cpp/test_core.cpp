// Tests of the C++ core: every public template for float and double, the AutoDiffScalar pitfalls,
// assertions turned into exceptions, argument checks, and forward mode against reverse mode.
#include "eigen_autodiff/article/forward_dynamic.hpp"
#include "eigen_autodiff/core/products.hpp"
#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/jacobian.hpp"
#include "eigen_autodiff/fast/reverse.hpp"
#include "eigen_autodiff/fast/second_order.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"

namespace ead = eigen_autodiff;

// Every public template, instantiated for float and double.
using Sin = ead::activations::Sin;
using Pool = Eigen::ThreadPoolDevice;
using Serial = Eigen::DefaultDevice;
#define INSTANTIATE(T)                                                                            \
  template auto ead::convert<void, T, 0>(const Eigen::Tensor<T, 2, 0>&, ead::Index, ead::Index);  \
  template auto ead::convert<void, T, Eigen::RowMajor>(                                           \
      const Eigen::Tensor<T, 2, Eigen::RowMajor>&, ead::Index, ead::Index);                       \
  template Eigen::Tensor<ead::DynamicAD<T>, 2, 0> ead::matrix_product(                            \
      const Eigen::Tensor<ead::DynamicAD<T>, 2, 0>&,                                              \
      const Eigen::Tensor<ead::DynamicAD<T>, 2, 0>&);                                             \
  template Eigen::Tensor<T, 2, 0> ead::matrix_product(const Eigen::Tensor<T, 2, 0>&,              \
                                                      const Eigen::Tensor<T, 2, 0>&);             \
  template ead::DynamicAD<T> ead::sum_of_squares(const Eigen::Tensor<ead::DynamicAD<T>, 2, 0>&);  \
  template T ead::sum_of_squares(const Eigen::Tensor<T, 2, 0>&);                                  \
  template void ead::contract_into(const Serial&, ead::ConstMatrixView<T>,                        \
                                   ead::ConstMatrixView<T>, ead::MatrixView<T>);                  \
  template void ead::contract_into(const Pool&, ead::ConstMatrixView<T>, ead::ConstMatrixView<T>, \
                                   ead::MatrixView<T>);                                           \
  template void ead::pre_activations(const Pool&, const ead::DenseLayer<T>&, ead::MatrixView<T>); \
  template void ead::add_to_rows(const Pool&, const T*, ead::MatrixView<T>);                      \
  template void ead::layer_values(const Serial&, const ead::DenseLayer<T>&, const Sin&,           \
                                  ead::MatrixView<T>);                                            \
  template void ead::layer_values(const Pool&, const ead::DenseLayer<T>&, const Sin&,             \
                                  ead::MatrixView<T>);                                            \
  template double ead::loss_and_output_gradient(const Serial&, const Sin&,                        \
                                                const ead::SquaredError<T>&, ead::MatrixView<T>); \
  template void ead::cotangent_to_pre_activations(const Pool&, const Sin&, const T*,              \
                                                  ead::MatrixView<T>);                            \
  template void ead::column_sums(const Pool&, ead::ConstMatrixView<T>, T*);                       \
  template void ead::small_product(ead::Index, ead::Index, ead::Index, const T*, ead::Index,      \
                                   ead::Index, const T*, ead::Index, T*, ead::Index);             \
  template void ead::backward_products(const Pool&, const ead::DenseLayer<T>&,                    \
                                       ead::ConstMatrixView<T>, const ead::LayerGradients<T>&);   \
  template double ead::value_and_grad_reverse(const Serial&, const ead::DenseLayer<T>&,           \
                                              const Sin&, const ead::SquaredError<T>&,            \
                                              const ead::LayerGradients<T>&);                     \
  template double ead::value_and_grad_reverse(const Pool&, const ead::DenseLayer<T>&, const Sin&, \
                                              const ead::SquaredError<T>&,                        \
                                              const ead::LayerGradients<T>&);                     \
  template void ead::layer_vjp(const Pool&, const ead::DenseLayer<T>&, const Sin&, const T*,      \
                               const ead::LayerGradients<T>&);                                    \
  template void ead::layer_jvp(const Pool&, const ead::DenseLayer<T>&, const Sin&, const T*,      \
                               const T*, const T*, ead::MatrixView<T>, ead::MatrixView<T>);       \
  template double ead::value_and_grad_forward_dynamic(const ead::DenseLayer<T>&, const Sin&,      \
                                                      const ead::SquaredError<T>&,                \
                                                      const ead::LayerGradients<T>&);             \
  template void ead::activation_value_and_derivative(const Sin&, const T*, T*, T*, ead::Index);   \
  template std::uint64_t ead::forward_dynamic_bytes<T>(ead::Index, ead::Index, ead::Index,        \
                                                       ead::Wanted);                              \
  template std::uint64_t ead::layer_values_bytes<T>(ead::Index, ead::Index);                      \
  template std::uint64_t ead::elementwise_bytes<T>(ead::Index);                                   \
  template std::uint64_t ead::jvp_bytes<T>(ead::Index, ead::Index);                               \
  template std::uint64_t ead::value_and_grad_bytes<T>(ead::Mode, ead::Index, ead::Index,          \
                                                      ead::Index, ead::Wanted);                   \
  template double ead::value_and_grad(const Pool&, ead::Mode, const ead::DenseLayer<T>&,          \
                                      const Sin&, const ead::SquaredError<T>&,                    \
                                      const ead::LayerGradients<T>&);
#define INSTANTIATE_FORWARD(T)                                                                   \
  template double ead::value_and_grad_forward<8>(const Pool&, const ead::DenseLayer<T>&,         \
                                                 const Sin&, const ead::SquaredError<T>&,        \
                                                 const ead::LayerGradients<T>&);                 \
  template void ead::layer_jacobian<8>(const Pool&, const ead::DenseLayer<T>&, const Sin&,       \
                                       ead::ForwardWrt, T*);                                     \
  template ead::Index ead::parameter_size(const ead::DenseLayer<T>&, ead::ForwardWrt);           \
  template std::uint64_t ead::forward_bytes<T, 8>(ead::Index, ead::Index, ead::Index,            \
                                                  ead::Wanted);                                  \
  template std::uint64_t ead::reverse_bytes<T>(ead::Index, ead::Index, ead::Index, ead::Wanted); \
  template std::uint64_t ead::jacobian_bytes<T>(ead::Index, ead::Index, ead::Index);             \
  template void ead::second_derivative(const Sin&, const T*, T*, T*, T*, ead::Index);            \
  template void ead::hessian_vector_product(const Pool&, const ead::DenseLayer<T>&, const Sin&,  \
                                            const ead::SquaredError<T>&, ead::ForwardWrt,        \
                                            const T*, T*);                                       \
  template void ead::hessian(const Pool&, const ead::DenseLayer<T>&, const Sin&,                 \
                             const ead::SquaredError<T>&, ead::ForwardWrt, T*);                  \
  template void ead::layer_vjp_of_vjp(const Pool&, const ead::DenseLayer<T>&, const Sin&,        \
                                      const T*, const T*, const T*, const T*,                    \
                                      const ead::SecondOrderGradients<T>&);                      \
  template std::uint64_t ead::hvp_bytes<T>(ead::Index, ead::Index, ead::Index);                  \
  template std::uint64_t ead::hessian_bytes<T>(ead::Index, ead::Index, ead::Index);              \
  template std::uint64_t ead::vjp_of_vjp_bytes<T>(ead::Index, ead::Index, ead::Index, ead::Wanted);
INSTANTIATE_FORWARD(float)
INSTANTIATE_FORWARD(double)
template void ead::contract(const Eigen::ThreadPoolDevice&, ead::ConstMatrixView<float>,
                            ead::ConstMatrixView<float>, ead::Transpose, ead::MatrixView<float>);
template void ead::contract(const Eigen::ThreadPoolDevice&, ead::ConstMatrixView<double>,
                            ead::ConstMatrixView<double>, ead::Transpose, ead::MatrixView<double>);
template void ead::packed_product(ead::Index, ead::Index, ead::Index, const float*, ead::Index,
                                  ead::Index, const float*, ead::Index, ead::Index, float*,
                                  ead::Index);
template void ead::packed_product(ead::Index, ead::Index, ead::Index, const double*, ead::Index,
                                  ead::Index, const double*, ead::Index, ead::Index, double*,
                                  ead::Index);
INSTANTIATE(float)
INSTANTIATE(double)

namespace {

template <typename T>
T tolerance() {
  return std::is_same<T, float>::value ? T(2e-5) : T(1e-12);
}

template <typename T>
ead::RowMajorTensor<T> random_tensor(std::mt19937& gen, ead::Index rows, ead::Index cols) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  ead::RowMajorTensor<T> t(rows, cols);
  for (ead::Index k = 0; k < t.size(); ++k) {
    t.data()[k] = static_cast<T>(uniform(gen));
  }
  return t;
}

// Eigen's AutoDiff test style: AD results against hand-written derivatives at random points.
template <typename T>
void activations_match_hand_written_derivatives() {
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> uniform(-3.0, 3.0);
  for (int trial = 0; trial < 50; ++trial) {
    const T x = static_cast<T>(uniform(gen));
    const T s = T(1) / (T(1) + std::exp(-x));
    const std::vector<std::pair<ead::Activation, T>> expected = {
        {ead::Activation::identity, T(1)},
        {ead::Activation::sin, std::cos(x)},
        {ead::Activation::cos, -std::sin(x)},
        {ead::Activation::tanh, T(1) - std::tanh(x) * std::tanh(x)},
        {ead::Activation::sigmoid, s * (T(1) - s)},
        {ead::Activation::relu, x > 0 ? T(1) : T(0)},
        {ead::Activation::softplus, s},
        {ead::Activation::exp, std::exp(x)},
        {ead::Activation::square, T(2) * x},
        {ead::Activation::inv_exp, -std::exp(-x)},
    };
    for (const auto& [activation, slope] : expected) {
      T value = 0;
      T derivative = 0;
      const T plain = ead::visit_activation(activation, [&](const auto& fn) {
        ead::activation_value_and_derivative(fn, &x, &value, &derivative, 1);
        return fn(x);
      });
      CHECK_CLOSE(derivative, slope, 10 * tolerance<T>());
      // The plain-scalar evaluation and the AD value are the same function (to an ulp or two
      // where the AD value comes from SIMD packet math, see lanes_match_one_point_at_a_time).
      CHECK_CLOSE(plain, value, 4 * std::numeric_limits<T>::epsilon());
    }
  }
}

// Whether a and b agree to `ulps` units in the last place of the larger of them and `scale`, or
// are the same non-finite number.
template <typename T>
bool within_ulps(T a, T b, int ulps, T scale = 0) {
  if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
  }
  scale =
      std::max({std::abs(a), std::abs(b), std::abs(scale), std::numeric_limits<T>::denorm_min()});
  return std::abs(a - b) <= ulps * std::numeric_limits<T>::epsilon() * scale ||
         std::abs(a - b) <= ulps * std::numeric_limits<T>::denorm_min();
}

// The activations evaluated on SIMD lanes (activation_value_and_derivative, second_derivative
// over many points) give what a one-derivative or nested AutoDiffScalar gives one point at a
// time, to 4 ulps (the packet exp is 1 ulp from std::exp, and 1 / exp(x) differentiated compounds
// it), also where exp overflows or underflows to the subnormals, at NaN and at the infinities,
// and in a last partial packet. The second derivative is compared at the scale of the first as
// well: where it nears a zero through a difference (sigmoid'' = s(1 - s)(1 - 2s) near 0), an ulp
// of s is many of its own. And to 6 ulps: 1 / exp(x) differentiated twice is 2/e - 1/e (e =
// exp(x)), twice the error of each term (4.9 ulps measured on the dense grid below).
template <typename T>
void lanes_match_one_point_at_a_time() {
  // First whole packets holding a NaN beside an argument out of a packet function's range, in
  // every pair of lanes: the NaN must not hide it from the range checks.
  std::vector<T> x;
  constexpr int lanes = ead::Lanes<T>::size;
  for (T beyond : {T(1e18), T(88.7), T(-88), T(-800), T(709.9), T(1e5), T(-2e5)}) {
    for (int nan_lane = 0; nan_lane < lanes; ++nan_lane) {
      for (int beyond_lane = 0; beyond_lane < lanes; ++beyond_lane) {
        if (nan_lane != beyond_lane) {
          for (int lane = 0; lane < lanes; ++lane) {
            x.push_back(lane == nan_lane      ? std::numeric_limits<T>::quiet_NaN()
                        : lane == beyond_lane ? beyond
                                              : T(0.5));
          }
        }
      }
    }
  }
  const std::size_t whole_packets = x.size();
  for (T v : {T(0), T(-0.0), T(1e-30), T(-1e-30), T(88.7), T(-88), T(-100), T(100), T(-745),
              T(-800), T(709.9), T(1e4), T(-1e4)}) {
    x.push_back(v);
  }
  x.push_back(std::numeric_limits<T>::quiet_NaN());
  x.push_back(std::numeric_limits<T>::infinity());
  x.push_back(-std::numeric_limits<T>::infinity());
  x.push_back(std::numeric_limits<T>::denorm_min());
  std::mt19937 gen(4);
  std::uniform_real_distribution<double> uniform(-20.0, 20.0);
  // Around the multiples of pi/2 and the range limit of the argument reduction.
  for (double v : {1.5707963267948966, 3.141592653589793, 4.71238898038469, 1e5, -1e5, 1.00001e5,
                   99999.5, 12345.678}) {
    x.push_back(static_cast<T>(v));
  }
  // Densely where tanh's value and derivative change formula (0.625) and around it.
  for (int k = -4000; k <= 4000; ++k) {
    x.push_back(static_cast<T>(k * 4e-4));
  }
  std::uniform_real_distribution<double> wide(-1e5, 1e5);
  while (x.size() < whole_packets + 8404) {  // not a whole number of packets
    x.push_back(static_cast<T>(x.size() % 2 ? uniform(gen) : wide(gen)));
  }
  const auto n = static_cast<ead::Index>(x.size());
  for (ead::Activation activation : ead::all_activations) {
    ead::visit_activation(activation, [&](const auto& fn) {
      std::vector<T> value(x.size()), derivative(x.size()), values_only(x.size());
      std::vector<T> value2(x.size()), first(x.size()), second(x.size());
      ead::activation_value_and_derivative(fn, x.data(), value.data(), derivative.data(), n);
      ead::activation_values(fn, x.data(), values_only.data(), n);
      ead::second_derivative(fn, x.data(), value2.data(), first.data(), second.data(), n);
      bool all_match = true;
      for (std::size_t k = 0; k < x.size(); ++k) {
        const ead::ScalarAD<T> one = fn(ead::ScalarAD<T>(x[k], 1, 0));
        const ead::SecondOrderAD<T> twice = fn(ead::detail::seeded_twice(x[k], T(1)));
        const T first_one = twice.derivatives()(0).value();
        const T second_one = ead::detail::second_along(twice);
        const bool match = within_ulps(value[k], one.value(), 4) &&
                           within_ulps(derivative[k], one.derivatives()(0), 4) &&
                           within_ulps(values_only[k], one.value(), 4) &&
                           within_ulps(value2[k], twice.value().value(), 4) &&
                           within_ulps(first[k], first_one, 4) &&
                           within_ulps(second[k], second_one, 6, first_one);
        if (!match) {
          std::cerr << ead::activation_name(activation) << "(" << x[k] << "): " << value[k] << ", "
                    << derivative[k] << ", " << first[k] << ", " << second[k] << " against "
                    << one.value() << ", " << one.derivatives()(0) << ", " << first_one << ", "
                    << second_one << "\n";
        }
        all_match = all_match && match;
      }
      CHECK(all_match);
    });
  }
}

// tanh of double lanes (tanh_of_doubles) is within 3 ulps of std::tanh, densely across both of its
// formulas and at the ends of the range, tiny and huge arguments, NaN and the infinities.
void double_tanh_on_lanes_is_accurate() {
  using Lanes = ead::Lanes<double>;
  std::vector<double> x = {0.0,
                           -0.0,
                           1e-300,
                           -1e-300,
                           5e-324,
                           0.625,
                           -0.625,
                           0.62499999999999989,
                           19,
                           20,
                           21,
                           -40,
                           710,
                           -1e300,
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  for (int k = -250000; k <= 250000; ++k) {
    x.push_back(k * 1e-4);
  }
  while (x.size() % Lanes::size != 0) {
    x.push_back(0.5);
  }
  bool all_match = true;
  for (std::size_t k = 0; k < x.size(); k += Lanes::size) {
    double result[Lanes::size];
    tanh(Lanes::load(&x[k])).store(result);
    for (int lane = 0; lane < Lanes::size; ++lane) {
      if (!within_ulps(result[lane], std::tanh(x[k + lane]), 3)) {
        std::cerr << "tanh(" << x[k + lane] << ") = " << result[lane] << " on lanes\n";
        all_match = false;
      }
    }
  }
  CHECK(all_match);
}

// sin and cos of float lanes from one argument reduction are Eigen's psin and pcos bit for bit,
// also at the reduction's range limit, beyond it, and at NaN and the infinities.
void float_sin_and_cos_are_eigens() {
  using Packet = ead::Lanes<float>::Packet;
  constexpr int lanes = ead::Lanes<float>::size;
  std::vector<float> x = {0.f,
                          -0.f,
                          1e-30f,
                          0.785398f,
                          1.5707964f,
                          3.1415927f,
                          1e4f,
                          -1e4f,
                          ead::detail::reduced_argument_limit<float>,
                          std::nextafter(ead::detail::reduced_argument_limit<float>, 0.f),
                          1e5f,
                          2e5f,
                          1e30f,
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity()};
  std::mt19937 gen(6);
  std::uniform_real_distribution<float> wide(-7e4f, 7e4f);
  std::uniform_real_distribution<float> narrow(-10.f, 10.f);
  while (x.size() % lanes != 0 || x.size() < 4096) {
    x.push_back(x.size() % 2 ? narrow(gen) : wide(gen));
  }
  bool all_same = true;
  for (std::size_t k = 0; k < x.size(); k += lanes) {
    const ead::Lanes<float> packet = ead::Lanes<float>::load(&x[k]);
    const auto [s, c] = sin_and_cos(packet);
    float ours[2][lanes], eigens[2][lanes];
    s.store(ours[0]);
    c.store(ours[1]);
    Eigen::internal::pstoreu(eigens[0], Eigen::internal::psin<Packet>(packet.packet()));
    Eigen::internal::pstoreu(eigens[1], Eigen::internal::pcos<Packet>(packet.packet()));
    all_same = all_same && std::memcmp(ours, eigens, sizeof ours) == 0;
  }
  CHECK(all_same);
}

// A scratch block given back is taken again by the next request it fits, two in use at once are
// distinct, and the kept blocks stay within their limits; one above them is not kept.
template <typename T>
void scratch_buffers_are_kept_within_limits() {
  using Scratch = ead::ScratchBuffer<T>;
  const T* taken[2];
  {
    Scratch a(1000);
    Scratch b(1000);
    taken[0] = a.data();
    taken[1] = b.data();
    CHECK(a.data() != b.data());
    CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % EIGEN_MAX_ALIGN_BYTES == 0);
    std::fill_n(a.data(), a.size(), T(1));
  }
  {
    Scratch c(500);
    CHECK(c.data() == taken[0] || c.data() == taken[1]);
  }
  {
    Scratch too_large(ead::kept_scratch_bytes / sizeof(T) + 1);
  }
  CHECK(Scratch::kept_bytes() <= ead::kept_scratch_bytes);
  for (std::size_t k = 1; k <= 2 * ead::kept_scratch_blocks; ++k) {
    Scratch s(k * (std::size_t{1} << 18) / sizeof(T));  // k quarter-MiB
  }
  CHECK(Scratch::kept_bytes() <= ead::kept_scratch_bytes);
  CHECK(Scratch::kept_bytes() > 0);
}

template <typename T>
void conventions_at_kinks() {
  const T zero = 0;
  T value = 1;
  T derivative = 1;
  ead::activation_value_and_derivative(ead::activations::Relu{}, &zero, &value, &derivative, 1);
  CHECK(value == 0 && derivative == 0);  // relu'(0) = 0
  using std::abs;
  const ead::ScalarAD<T> a = abs(ead::ScalarAD<T>(T(0), 1, 0));
  CHECK(a.derivatives()(0) == T(1));  // abs'(0) = 1, Eigen's convention
}

// The three modes, the VJP with the loss's own cotangent and the Jacobian contracted with it give
// the same gradients of L = scale * sum((act(X.W + b) - target)^2); the JVP is the Jacobian
// times the tangent.
template <typename T>
void modes_vjp_jvp_and_jacobian_agree() {
  std::mt19937 gen(2);
  Eigen::ThreadPool pool(2);
  Eigen::ThreadPoolDevice device(&pool, 2);
  for (const auto& [b, n, m] : {std::array<ead::Index, 3>{1, 1, 1},
                                {3, 3, 2},
                                {5, 7, 4},
                                {1, 6, 9},
                                {4, 17, 3},
                                {2, 8, 16},
                                {0, 3, 2},
                                {3, 0, 2},
                                {3, 2, 0}}) {
    const auto x = random_tensor<T>(gen, b, n);
    const auto w = random_tensor<T>(gen, n, m);
    const auto bias = random_tensor<T>(gen, 1, m);
    const auto target = random_tensor<T>(gen, b, m);
    const auto tangent = random_tensor<T>(gen, n, m);
    const ead::DenseLayer<T> layer(ead::ConstMatrixView<T>(x.data(), b, n),
                                   ead::ConstMatrixView<T>(w.data(), n, m), bias.data());
    const ead::SquaredError<T> loss{target.data(), 0.5};
    for (ead::Activation named : ead::all_activations) {
      ead::visit_activation(named, [&](const auto& activation) {
        std::vector<T> dx_r(b * n), dw_r(n * m), db_r(m);
        const double loss_r = ead::value_and_grad_reverse(device, layer, activation, loss,
                                                          {dx_r.data(), dw_r.data(), db_r.data()});
        CHECK(std::isfinite(loss_r));
        const auto close_to = [&](const std::vector<T>& ours, const std::vector<T>& expected) {
          for (std::size_t k = 0; k < ours.size(); ++k) {
            CHECK(std::abs(ours[k] - expected[k]) <=
                  10 * tolerance<T>() * (1 + std::abs(expected[k])));
          }
        };
        std::vector<T> dx(b * n), dw(n * m), db(m);
        for (const auto& [name, mode] : ead::modes) {
          const double value = ead::value_and_grad(device, mode, layer, activation, loss,
                                                   {dx.data(), dw.data(), db.data()});
          CHECK_CLOSE(value, loss_r, tolerance<T>() + 1e-300);
          close_to(dx, dx_r);
          close_to(dw, dw_r);
          close_to(db, db_r);
        }
        // dL/dY = 2 scale (Y - target), handed to the VJP.
        std::vector<T> y(b * m), cotangent(b * m);
        ead::layer_values(device, layer, activation, ead::MatrixView<T>(y.data(), b, m));
        for (ead::Index k = 0; k < b * m; ++k) {
          cotangent[k] = T(2 * loss.scale) * (y[k] - target.data()[k]);
        }
        ead::layer_vjp(device, layer, activation, cotangent.data(),
                       {dx.data(), dw.data(), db.data()});
        close_to(dx, dx_r);
        close_to(dw, dw_r);
        close_to(db, db_r);
        // The Jacobians contracted with the cotangent, and with the tangent.
        std::vector<T> jw(b * m * n * m), jb(b * m * m), along(b * m, T(0));
        ead::layer_jacobian(device, layer, activation, ead::ForwardWrt::w, jw.data());
        ead::layer_jacobian(device, layer, activation, ead::ForwardWrt::b, jb.data());
        std::fill(dw.begin(), dw.end(), T(0));
        std::fill(db.begin(), db.end(), T(0));
        for (ead::Index out = 0; out < b * m; ++out) {
          for (ead::Index p = 0; p < n * m; ++p) {
            dw[p] += cotangent[out] * jw[out * n * m + p];
            along[out] += jw[out * n * m + p] * tangent.data()[p];
          }
          for (ead::Index j = 0; j < m; ++j) {
            db[j] += cotangent[out] * jb[out * m + j];
          }
        }
        close_to(dw, dw_r);
        close_to(db, db_r);
        std::vector<T> y_jvp(b * m), dy(b * m);
        ead::layer_jvp(device, layer, activation, static_cast<const T*>(nullptr), tangent.data(),
                       static_cast<const T*>(nullptr), ead::MatrixView<T>(y_jvp.data(), b, m),
                       ead::MatrixView<T>(dy.data(), b, m));
        close_to(y_jvp, y);
        close_to(dy, along);
      });
    }
  }
}

// The Hessian-vector product is the Hessian times the vector, for every activation and
// parameter; the sigmoid's second derivative at 2 is s(1 - s)(1 - 2s).
template <typename T>
void second_order_is_consistent() {
  std::mt19937 gen(7);
  Eigen::ThreadPool pool(2);
  Eigen::ThreadPoolDevice device(&pool, 2);
  const ead::Index b = 4, n = 3, m = 2;
  const auto x = random_tensor<T>(gen, b, n);
  const auto w = random_tensor<T>(gen, n, m);
  const auto bias = random_tensor<T>(gen, 1, m);
  const auto target = random_tensor<T>(gen, b, m);
  const ead::DenseLayer<T> layer(ead::ConstMatrixView<T>(x.data(), b, n),
                                 ead::ConstMatrixView<T>(w.data(), n, m), bias.data());
  const ead::SquaredError<T> loss{target.data(), 1.0};
  for (ead::Activation named : ead::all_activations) {
    ead::visit_activation(named, [&](const auto& activation) {
      for (const auto wrt : {ead::ForwardWrt::w, ead::ForwardWrt::x, ead::ForwardWrt::b}) {
        const ead::Index size = ead::parameter_size(layer, wrt);
        const auto v = random_tensor<T>(gen, 1, size);
        std::vector<T> h(size * size), hv(size);
        ead::hessian(device, layer, activation, loss, wrt, h.data());
        ead::hessian_vector_product(device, layer, activation, loss, wrt, v.data(), hv.data());
        T scale = 0;
        for (const T entry : h) {
          scale = std::max(scale, std::abs(entry));
        }
        for (ead::Index i = 0; i < size; ++i) {
          T expected = 0;
          for (ead::Index j = 0; j < size; ++j) {
            expected += h[i * size + j] * v.data()[j];
          }
          CHECK(std::abs(hv[i] - expected) <= 100 * tolerance<T>() * (1 + scale));
        }
      }
    });
  }
  const T two = 2;
  T value = 0, first = 0, second = 0;
  ead::second_derivative(ead::activations::Sigmoid{}, &two, &value, &first, &second, 1);
  const T s = T(1) / (T(1) + std::exp(-two));
  CHECK_CLOSE(second, s * (1 - s) * (1 - 2 * s), 10 * tolerance<T>());
}

// Every product, on 1, 2, 8 and 16 threads (the last two on a pool of 2: the grid follows the
// device's thread count, not the cores), matches a plain loop and is the same to the last bit for
// every thread count. The shapes: Eigen's coefficient loop (3x2x3); small_product with partial
// tiles and columns in every direction (7x5x9, 37x41x53) and at its limit (64x64x64);
// packed_product in one block just beyond it (65x64x64), on a grid of several blocks whose last
// row and column of blocks are partial (300x250x200), with a block of one row on 2 threads
// (33x400x200), over several panels of depth and columns (40x300x1100), and of depth 1
// (600x1x500).
template <typename T>
void contractions_match_a_plain_loop() {
  std::mt19937 gen(3);
  Eigen::ThreadPool pool(2);
  const Eigen::ThreadPoolDevice one_thread(&pool, 1), two(&pool, 2), eight(&pool, 8),
      sixteen(&pool, 16);
  for (const auto& [p, q, r] : {std::array<ead::Index, 3>{3, 2, 3},
                                {7, 5, 9},
                                {37, 41, 53},
                                {64, 64, 64},
                                {65, 64, 64},
                                {300, 250, 200},
                                {33, 400, 200},
                                {40, 300, 1100},
                                {600, 1, 500}}) {
    const auto a = random_tensor<T>(gen, p, q);  // used as a (p x q) and as a^T (q x p)
    const auto b = random_tensor<T>(gen, q, r);
    const auto bt = random_tensor<T>(gen, r, q);
    const auto c = random_tensor<T>(gen, p, r);
    const ead::ConstMatrixView<T> av(a.data(), p, q), bv(b.data(), q, r), btv(bt.data(), r, q),
        cv(c.data(), p, r);
    std::vector<T> first_ab, first_atc, first_abt;
    for (const auto* device : {&one_thread, &two, &eight, &sixteen}) {
      std::vector<T> ab(p * r), atc(q * r), abt(p * r);
      ead::contract(*device, av, bv, ead::Transpose::none, ead::MatrixView<T>(ab.data(), p, r));
      ead::contract(*device, av, cv, ead::Transpose::a, ead::MatrixView<T>(atc.data(), q, r));
      ead::contract(*device, av, btv, ead::Transpose::b, ead::MatrixView<T>(abt.data(), p, r));
      if (device == &one_thread) {
        first_ab = ab, first_atc = atc, first_abt = abt;
      } else {
        CHECK(ab == first_ab && atc == first_atc && abt == first_abt);
      }
      // The error bound of a sum of `depth` products: depth * eps * sum |a_k b_k|.
      bool all_close = true;
      const auto expect = [&all_close](T got, ead::Index depth, auto&& term) {
        double sum = 0, magnitude = 0;
        for (ead::Index k = 0; k < depth; ++k) {
          sum += term(k);
          magnitude += std::abs(term(k));
        }
        all_close = all_close && std::abs(double(got) - sum) <=
                                     double(depth) * std::numeric_limits<T>::epsilon() * magnitude;
      };
      for (ead::Index i = 0; i < p; ++i) {
        for (ead::Index j = 0; j < r; ++j) {
          expect(ab[i * r + j], q, [&](ead::Index k) { return double(a(i, k)) * double(b(k, j)); });
          expect(abt[i * r + j], q,
                 [&](ead::Index k) { return double(a(i, k)) * double(bt(j, k)); });
        }
      }
      for (ead::Index i = 0; i < q; ++i) {
        for (ead::Index j = 0; j < r; ++j) {
          expect(atc[i * r + j], p,
                 [&](ead::Index k) { return double(a(k, i)) * double(c(k, j)); });
        }
      }
      CHECK(all_close);
      std::vector<T> wrong(p * (r + 1));
      CHECK_THROWS(std::invalid_argument,
                   ead::contract(*device, av, bv, ead::Transpose::none,
                                 ead::MatrixView<T>(wrong.data(), p, r + 1)));
    }
  }
}

// The grid covers the output exactly, its edges on the alignments (whole packed tiles' columns),
// and gives every thread a block once the work is worth it, up to 16 threads; no block exceeds
// twice block_max_multiply_adds where the alignments allow it.
void product_grid_splits_for_every_thread_count() {
  const std::array<ead::Index, 3> shapes[] = {{3, 2, 3},          {64, 64, 64},     {256, 256, 512},
                                              {1024, 1024, 1024}, {1000, 130, 700}, {70, 5000, 90},
                                              {40, 40, 1 << 20}};
  for (const auto& [rows, cols, inner] : shapes) {
    const ead::Index row_slots = (rows + ead::grid_row_alignment - 1) / ead::grid_row_alignment;
    const ead::Index col_slots = (cols + ead::grid_col_alignment - 1) / ead::grid_col_alignment;
    for (ead::Index threads = 1; threads <= 16; ++threads) {
      const ead::ProductGrid grid = ead::product_grid(rows, cols, inner, threads);
      const auto edges_ok = [](ead::Index blocks, ead::Index extent, ead::Index alignment) {
        bool ok = ead::grid_edge(0, blocks, extent, alignment) == 0 &&
                  ead::grid_edge(blocks, blocks, extent, alignment) == extent;
        for (ead::Index i = 1; i <= blocks; ++i) {
          const ead::Index start = ead::grid_edge(i - 1, blocks, extent, alignment);
          const ead::Index end = ead::grid_edge(i, blocks, extent, alignment);
          ok = ok && end > start && start % alignment == 0;
        }
        return ok;
      };
      CHECK(edges_ok(grid.row_blocks, rows, ead::grid_row_alignment));
      CHECK(edges_ok(grid.col_blocks, cols, ead::grid_col_alignment));
      const ead::Index blocks = grid.row_blocks * grid.col_blocks;
      const double work = double(rows) * double(cols) * double(inner);
      const double worth = std::floor(work / ead::block_min_multiply_adds);
      CHECK(double(blocks) >= std::min({double(threads), worth, double(row_slots * col_slots)}));
      CHECK(work / double(blocks) <= 2 * ead::block_max_multiply_adds ||
            blocks == row_slots * col_slots);
    }
  }
  // 1024^3 on 16 threads: 16 blocks of 64 rows.
  const ead::ProductGrid big = ead::product_grid(1024, 1024, 1024, 16);
  CHECK(big.row_blocks == 16 && big.col_blocks == 1);
}

// The known AutoDiffScalar pitfall: constants with empty derivative vectors mixed with seeded
// values. Regression tests named after the bug.
void empty_derivative_vectors_mixed_with_seeded_ones() {
  using AD = ead::DynamicAD<double>;
  const AD x(2.0);  // constants, as convert() without a size makes them
  const AD y(3.0);
  const AD z(4.0, 1, 0);
  // In Eigen 3.4, x*y*z in one expression combines two empty vectors into an expression that
  // make_coherent cannot resize; with eigen_setup.hpp this is an exception, never a wrong number.
  CHECK_THROWS(ead::eigen_assertion_error, AD r = x * y * z; (void)r);
  // Evaluated step by step it is right: d(xyz)/dz = xy = 6.
  const AD xy = x * y;
  CHECK((xy * z).derivatives()(0) == 6.0);
  // Constants carrying zero vectors of the full length are right in one expression too.
  const AD x_sized(2.0, Eigen::VectorXd::Zero(1));
  const AD y_sized(3.0, Eigen::VectorXd::Zero(1));
  CHECK((x_sized * y_sized * z).derivatives()(0) == 6.0);
  CHECK(((x + x) * z).derivatives()(0) == 4.0);
  CHECK((x * z).derivatives()(0) == 2.0);
  CHECK((z * x + y).derivatives()(0) == 2.0);
  // zero_like gives a constant of the right length.
  CHECK(ead::zero_like(z).derivatives().size() == 1);
}

void eigen_assertions_become_exceptions() {
  using AD = ead::DynamicAD<double>;
  const AD a(1.0, 2, 0);
  const AD b(1.0, 3, 0);
  CHECK_THROWS(ead::eigen_assertion_error, AD c = a * b; (void)c);
  const Eigen::MatrixXd m(2, 3);
  const Eigen::MatrixXd n(2, 3);
  CHECK_THROWS(ead::eigen_assertion_error, Eigen::MatrixXd p = m * n; (void)p);
  CHECK_THROWS(std::invalid_argument, Eigen::MatrixXd p = m * n; (void)p);
}

void argument_checks() {
  Eigen::Tensor<double, 2> w(3, 2);
  w.setConstant(1.0);
  CHECK_THROWS(std::invalid_argument, ead::convert(w, 1, 6));
  CHECK_THROWS(std::invalid_argument, ead::convert(w, -1, 8));
  CHECK_THROWS(std::invalid_argument, ead::convert(w, 0, -2));
  const auto seeded = ead::convert(w, 2, 8);
  CHECK(seeded(1, 1).derivatives().size() == 8 && seeded(1, 1).derivatives()(2 + 3) == 1.0);
  const ead::DynamicAD<double> loss(0.0, 5, 0);
  CHECK_THROWS(std::invalid_argument, ead::gradients(loss, seeded));
  Eigen::Tensor<double, 2> x(2, 4);
  CHECK_THROWS(std::invalid_argument, ead::matrix_product(x, w));
  CHECK_THROWS(std::invalid_argument, ead::activation_from_name("swish"));
  CHECK(ead::activation_from_name("inv_exp") == ead::Activation::inv_exp);
}

// The article's gradients layout: X's derivatives first, W's after.
void gradients_unpack_x_then_w() {
  Eigen::Tensor<double, 2> x(2, 2);
  x.setValues({{1, 2}, {3, 4}});
  Eigen::Tensor<double, 2> w(2, 1);
  w.setValues({{5}, {6}});
  const auto X = ead::convert(x, 0, 6);
  const auto W = ead::convert(w, 4, 6);
  const auto loss = ead::sum_of_squares(ead::custom_layer(X, W, ead::activations::Identity{}));
  const auto [dx, dw] = ead::gradients(loss, X, W);
  // L = sum_b (x_b . w)^2; dL/dw = 2 sum_b z_b x_b, dL/dx_b = 2 z_b w, z = (17, 39).
  CHECK(dw(0, 0) == 2 * (17 * 1 + 39 * 3) && dw(1, 0) == 2 * (17 * 2 + 39 * 4));
  CHECK(dx(0, 0) == 2 * 17 * 5 && dx(1, 1) == 2 * 39 * 6);
}

void size_estimates_saturate() {
  const ead::Index huge = ead::Index(1) << 40;
  CHECK(ead::forward_dynamic_bytes<double>(huge, huge, huge, {true, true, true}) ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(ead::wanted_entries(2, 3, 4, {true, true, false}) == 6 + 12);
  CHECK(ead::wanted_entries(2, 3, 4, {false, false, true}) == 4);
}

// parallel_for runs every task once; with several threads calling it at once, the callers and
// the pool's threads together never compute on more threads than the device has; a parallel_for
// inside a task runs inline (waiting there for the busy pool could deadlock); and the first
// exception reaches the caller.
void parallel_for_shares_the_device_threads() {
  Eigen::ThreadPool pool(1);  // with a calling thread, the device's two threads
  const Eigen::ThreadPoolDevice device(&pool, 2);
  constexpr int callers = 3;
  constexpr int calls = 40;
  constexpr int tasks = 8;
  std::vector<std::atomic<int>> runs(callers * calls * tasks);
  std::atomic<int> computing{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int caller = 0; caller < callers; ++caller) {
    threads.emplace_back([&, caller] {
      for (int call = 0; call < calls; ++call) {
        ead::parallel_for(device, tasks, [&](ead::Index t) {
          const int now = ++computing;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
          while (std::chrono::steady_clock::now() < until) {
          }
          ++runs[(caller * calls + call) * tasks + t];
          --computing;
        });
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  CHECK(most.load() <= 2);
  CHECK(std::all_of(runs.begin(), runs.end(), [](const std::atomic<int>& n) { return n == 1; }));

  std::atomic<int> inner{0};
  ead::parallel_for(
      device, 4, [&](ead::Index) { ead::parallel_for(device, 4, [&](ead::Index) { ++inner; }); });
  CHECK(inner.load() == 16);

  std::string caught;
  try {
    ead::parallel_for(device, 8, [](ead::Index t) {
      if (t == 5) {
        throw std::runtime_error("task 5");
      }
    });
  } catch (const std::runtime_error& error) {
    caught = error.what();
  }
  CHECK(caught == "task 5");
}

// A failure is destroyed in the thread that called parallel_for, even when a pool thread takes
// the call's tasks only after the call has returned. The interrupt check's exception (pybind11's
// error_already_set) takes the GIL in its destructor, which a pool thread must not do: at
// Python's exit that ended the process ("terminate called without an active exception").
void failures_are_destroyed_in_the_calling_thread() {
  struct Failure {
    std::thread::id caller;
    std::atomic<int>* destroyed_elsewhere;
    ~Failure() {
      if (std::this_thread::get_id() != caller) {
        ++*destroyed_elsewhere;
      }
    }
  };
  std::atomic<int> destroyed_elsewhere{0};
  int caught = 0;
  {
    Eigen::ThreadPool pool(1);
    const Eigen::ThreadPoolDevice device(&pool, 2);
    // The pool's one thread is busy until the call has returned: the call's tasks wait for it.
    std::mutex mutex;
    std::condition_variable changed;
    bool busy = false;
    bool released = false;
    pool.Schedule([&] {
      std::unique_lock<std::mutex> lock(mutex);
      busy = true;
      changed.notify_all();
      changed.wait(lock, [&] { return released; });
    });
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return busy; });
    }
    try {
      ead::parallel_for(device, 2, [&](ead::Index) {
        throw Failure{std::this_thread::get_id(), &destroyed_elsewhere};
      });
    } catch (const Failure&) {
      ++caught;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      released = true;
      changed.notify_all();
    }
  }  // the pool's thread runs what was queued, then is joined
  CHECK(caught == 1);
  CHECK(destroyed_elsewhere.load() == 0);
}

}  // namespace

int main() {
  activations_match_hand_written_derivatives<float>();
  activations_match_hand_written_derivatives<double>();
  lanes_match_one_point_at_a_time<float>();
  lanes_match_one_point_at_a_time<double>();
  float_sin_and_cos_are_eigens();
  double_tanh_on_lanes_is_accurate();
  scratch_buffers_are_kept_within_limits<float>();
  scratch_buffers_are_kept_within_limits<double>();
  conventions_at_kinks<float>();
  conventions_at_kinks<double>();
  modes_vjp_jvp_and_jacobian_agree<float>();
  second_order_is_consistent<float>();
  second_order_is_consistent<double>();
  modes_vjp_jvp_and_jacobian_agree<double>();
  contractions_match_a_plain_loop<float>();
  contractions_match_a_plain_loop<double>();
  product_grid_splits_for_every_thread_count();
  parallel_for_shares_the_device_threads();
  failures_are_destroyed_in_the_calling_thread();
  empty_derivative_vectors_mixed_with_seeded_ones();
  eigen_assertions_become_exceptions();
  argument_checks();
  gradients_unpack_x_then_w();
  size_estimates_saturate();
  return check::summary();
}
