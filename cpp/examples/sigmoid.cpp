// The article's first C++ program: the sigmoid and its derivative at x = 2 from an
// AutoDiffScalar seeded as the only variable. `sigmoid [--json] [x]`.
#include "eigen_autodiff/core/types.hpp"

#include <iostream>
#include <string>

#include "example_io.hpp"

// The article's my_function, as written there.
template <typename T>
T my_function(const T& x) {
  T result = T(1) / (T(1) + exp(-x));
  return result;
}

int main(int argc, char** argv) {
  try {
    const auto options = example_io::parse_options(argc, argv, "usage: sigmoid [--json] [x]\n");
    const double x_value = options.positional.empty() ? 2.0 : std::stod(options.positional[0]);

    Eigen::AutoDiffScalar<Eigen::VectorXd> X;
    X.derivatives() = Eigen::VectorXd::Unit(1, 0);
    X.value() = x_value;
    auto Y = my_function(X);

    if (options.json) {
      std::cout << "{\"x\": " << example_io::json_number(x_value)
                << ", \"value\": " << example_io::json_number(Y.value())
                << ", \"derivative\": " << example_io::json_number(Y.derivatives()(0)) << "}\n";
    } else {
      std::cout << "Y: " << Y << "\n\n";
      std::cout << "derivatives:\n" << Y.derivatives() << "\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "sigmoid: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
