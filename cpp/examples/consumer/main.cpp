// The article's layer in an outside project: L = sum(sin(X . W)^2) and dL/dW, checked against
// the derivative by hand, dL/dW[j] = sum_i sin(2 z_i) X[i][j] with z = X . W.
#include <cmath>
#include <cstdio>

#include "eigen_autodiff/activations.hpp"  // before any Eigen header
#include "eigen_autodiff/layer.hpp"

int main() {
  using AD = Eigen::AutoDiffScalar<Eigen::VectorXd>;
  Eigen::Tensor<double, 2> x(2, 2);
  x.setValues({{1.0, 2.0}, {3.0, -1.0}});
  Eigen::Tensor<double, 2> w(2, 1);
  w.setValues({{0.5}, {-0.25}});

  Eigen::Tensor<AD, 2> X = eigen_autodiff::convert(x);               // constants
  Eigen::Tensor<AD, 2> W = eigen_autodiff::convert(w, 0, w.size());  // seeded
  auto Y = eigen_autodiff::custom_layer(X, W, eigen_autodiff::activations::Sin{});
  auto loss = eigen_autodiff::sum_of_squares(Y);
  Eigen::Tensor<double, 2> dw = eigen_autodiff::gradients(loss, W);

  // z = (0, 1.75), so dL/dW = (3 sin(3.5), -sin(3.5)).
  const double expected[2] = {3 * std::sin(3.5), -std::sin(3.5)};
  std::printf("gradient: %.17g %.17g\n", dw(0, 0), dw(1, 0));
  for (int j = 0; j < 2; ++j) {
    if (std::abs(dw(j, 0) - expected[j]) > 1e-15) {
      std::fprintf(stderr, "gradient %d is %.17g, by hand %.17g\n", j, dw(j, 0), expected[j]);
      return 1;
    }
  }
  return 0;
}
