// The article's last program: the custom layer with X and W both seeded (X's entries first, then
// W's), and the loss's derivatives unpacked into dLOSS/dX and dLOSS/dW.
// `custom_layer_dx [--json] [--input FILE]`; FILE holds "rows cols values..." for X, then for W.
#include "eigen_autodiff/article/layer.hpp"
#include "eigen_autodiff/core/activations.hpp"

#include <iostream>

#include "example_io.hpp"

using AutoDiff_T = Eigen::AutoDiffScalar<Eigen::VectorXf>;

int main(int argc, char** argv) {
  try {
    const auto options =
        example_io::parse_options(argc, argv, "usage: custom_layer_dx [--json] [--input FILE]\n");
    const auto [x_in, w_in] = example_io::layer_inputs(options);

    const Eigen::Index size = x_in.size() + w_in.size();
    Eigen::Tensor<AutoDiff_T, 2> X = eigen_autodiff::convert(x_in, 0, size);
    Eigen::Tensor<AutoDiff_T, 2> W = eigen_autodiff::convert(w_in, x_in.size(), size);
    auto Y = eigen_autodiff::custom_layer(X, W, eigen_autodiff::activations::Sin{});
    auto LOSS = eigen_autodiff::sum_of_squares(Y);
    auto [dY_dX, dY_dW] = eigen_autodiff::gradients(LOSS, X, W);

    if (options.json) {
      std::cout << "{\"w\": " << example_io::json_matrix(w_in)
                << ", \"loss\": " << example_io::json_number(LOSS.value())
                << ", \"dx\": " << example_io::json_matrix(dY_dX)
                << ", \"dw\": " << example_io::json_matrix(dY_dW) << "}\n";
    } else {
      std::cout << "trainable_variables:\n" << w_in << "\n\n";
      std::cout << "dLOSS/dX:\n" << dY_dX << "\n\n";
      std::cout << "dLOSS/dW:\n" << dY_dW << "\n\n";
      std::cout << "loss:\n" << LOSS << "\n\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "custom_layer_dx: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
