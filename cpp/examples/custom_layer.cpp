// The article's custom layer in C++: Y = sin(X . W) with X and W as Eigen tensors of
// AutoDiffScalar, W seeded by convert, and dLOSS/dW unpacked by gradients.
// `custom_layer [--json] [--input FILE]`; FILE holds "rows cols values..." for X, then for W.
#include "eigen_autodiff/article/layer.hpp"
#include "eigen_autodiff/core/activations.hpp"

#include <iostream>

#include "example_io.hpp"

using AutoDiff_T = Eigen::AutoDiffScalar<Eigen::VectorXf>;

int main(int argc, char** argv) {
  try {
    const auto options =
        example_io::parse_options(argc, argv, "usage: custom_layer [--json] [--input FILE]\n");
    const auto [x_in, w_in] = example_io::layer_inputs(options);

    // X is a constant; W's entries are the variables 0 .. w.size()-1.
    Eigen::Tensor<AutoDiff_T, 2> X = eigen_autodiff::convert(x_in);
    Eigen::Tensor<AutoDiff_T, 2> W = eigen_autodiff::convert(w_in, 0, w_in.size());
    auto Y = eigen_autodiff::custom_layer(X, W, eigen_autodiff::activations::Sin{});
    auto LOSS = eigen_autodiff::sum_of_squares(Y);
    auto dY_dW = eigen_autodiff::gradients(LOSS, W);

    if (options.json) {
      Eigen::Tensor<float, 2> y = Y.unaryExpr([](const AutoDiff_T& v) { return v.value(); });
      std::cout << "{\"w\": " << example_io::json_matrix(w_in)
                << ", \"y\": " << example_io::json_matrix(y)
                << ", \"loss\": " << example_io::json_number(LOSS.value())
                << ", \"dw\": " << example_io::json_matrix(dY_dW) << "}\n";
    } else {
      std::cout << "trainable_variables:\n" << w_in << "\n\n";
      std::cout << "gradient:\n" << dY_dW << "\n\n";
      std::cout << "output:\n" << Y << "\n\n";
      std::cout << "loss:\n" << LOSS << "\n\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "custom_layer: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
