// Second derivatives from nested AutoDiffScalar: the sigmoid's at x = 2 (s(1 - s)(1 - 2s)), and
// the Hessian of the article's loss sum(sin(X . W)^2) w.r.t. W on the article's data, shape
// (N*M) x (N*M). `hessian [--json] [--input FILE] [x]`.
#include "eigen_autodiff/fast/second_order.hpp"

#include <iostream>
#include <string>

#include "example_io.hpp"

namespace ead = eigen_autodiff;

int main(int argc, char** argv) {
  try {
    const auto options =
        example_io::parse_options(argc, argv, "usage: hessian [--json] [--input FILE] [x]\n");
    const double x = options.positional.empty() ? 2.0 : std::stod(options.positional[0]);
    double value = 0;
    double first = 0;
    double second = 0;
    ead::second_derivative(ead::activations::Sigmoid{}, &x, &value, &first, &second, 1);

    const auto [x_in, w_in] = example_io::layer_inputs(options);
    const Eigen::Tensor<double, 2, Eigen::RowMajor> inputs =
        x_in.cast<double>().swap_layout().shuffle(Eigen::array<int, 2>{1, 0});
    const Eigen::Tensor<double, 2, Eigen::RowMajor> kernel =
        w_in.cast<double>().swap_layout().shuffle(Eigen::array<int, 2>{1, 0});
    const ead::DenseLayer<double> layer(
        ead::ConstMatrixView<double>(inputs.data(), inputs.dimension(0), inputs.dimension(1)),
        ead::ConstMatrixView<double>(kernel.data(), kernel.dimension(0), kernel.dimension(1)));
    const ead::Index size = kernel.size();
    Eigen::Tensor<double, 2, Eigen::RowMajor> h(size, size);
    ead::hessian(Eigen::DefaultDevice(), layer, ead::activations::Sin{},
                 ead::SquaredError<double>{}, ead::ForwardWrt::w, h.data());

    if (options.json) {
      std::cout << "{\"x\": " << example_io::json_number(x)
                << ", \"value\": " << example_io::json_number(value)
                << ", \"first\": " << example_io::json_number(first)
                << ", \"second\": " << example_io::json_number(second)
                << ", \"w\": " << example_io::json_matrix(w_in)
                << ", \"hessian_w\": " << example_io::json_matrix(h) << "}\n";
    } else {
      std::cout << "sigmoid at " << x << ": " << value << ", first derivative " << first
                << ", second derivative " << second << "\n\n";
      std::cout << "Hessian of sum(sin(X W)^2) w.r.t. W, row-major entries of W:\n" << h << "\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "hessian: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
