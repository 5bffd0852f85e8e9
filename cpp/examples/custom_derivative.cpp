// The article's fix for 1/exp(x): at x = 100 in float, exp overflows to inf, the value 1/inf = 0
// is still right, but the automatic derivative -exp(x)/exp(x)^2 is -inf * 0 = NaN. Supplying the
// derivative by hand as -exp(-x) (TensorFlow's custom_gradient in the article) is
// eigen_autodiff::custom_derivative in C++. `custom_derivative [--json] [x]` (default x = 100).
#include "eigen_autodiff/core/custom_derivative.hpp"

#include <cmath>
#include <iostream>
#include <sstream>
#include <string>

#include "example_io.hpp"

// As in the article's function_using_autodiff: 1./tf.exp(x).
template <typename T>
T naive_inv_exp(const T& x) {
  using std::exp;
  return T(1) / exp(x);
}

// The same function, its derivative written by hand. The value and derivative functions run on
// the plain value (float or double), so they can be generic lambdas.
const auto stable_inv_exp = eigen_autodiff::custom_derivative(
    [](auto x) {
      using std::exp;
      return decltype(x)(1) / exp(x);
    },
    [](auto x) {
      using std::exp;
      return -exp(-x);
    });

template <typename T>
std::string run(T x_value, bool json, const char* type) {
  // Seeded as the article seeds X: the only variable, index 0.
  using AD = Eigen::AutoDiffScalar<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
  const AD x(x_value, 1, 0);
  const AD naive = naive_inv_exp(x);
  const AD stable = stable_inv_exp(x);
  const T naive_derivative = naive.derivatives()(0);
  const T derivative = stable.derivatives()(0);
  if (json) {
    return std::string("\"") + type +
           "\": {\"naive_value\": " + example_io::json_number(naive.value()) +
           ", \"naive_derivative\": " + example_io::json_number(naive_derivative) +
           ", \"value\": " + example_io::json_number(stable.value()) +
           ", \"derivative\": " + example_io::json_number(derivative) +
           ", \"derivative_signbit\": " + (std::signbit(derivative) ? "true" : "false") +
           // On a plain scalar the custom derivative is just its value function.
           ", \"plain_value\": " + example_io::json_number(stable_inv_exp(x_value)) + "}";
  }
  std::ostringstream out;
  out << type << ":\n  naive 1/exp(x):         value " << naive.value() << ", derivative "
      << naive_derivative << "\n  with custom derivative: value " << stable.value()
      << ", derivative " << derivative << "\n";
  return out.str();
}

int main(int argc, char** argv) {
  try {
    const auto options =
        example_io::parse_options(argc, argv, "usage: custom_derivative [--json] [x]\n");
    const double x = options.positional.empty() ? 100.0 : std::stod(options.positional[0]);
    const std::string f = run(static_cast<float>(x), options.json, "float");
    const std::string d = run(x, options.json, "double");
    if (options.json) {
      std::cout << "{\"x\": " << example_io::json_number(x) << ", " << f << ", " << d << "}\n";
    } else {
      std::cout << "1/exp(x) at x = " << x << "\n" << f << d;
    }
  } catch (const std::exception& error) {
    std::cerr << "custom_derivative: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
