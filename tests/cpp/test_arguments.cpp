// The C++ API checks its arguments: dimensions, seed offsets and sizes, buffers. Each bad call
// throws std::invalid_argument with a message, never aborts or writes out of bounds.
#include "eigen_autodiff/article/forward_dynamic.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/jacobian.hpp"
#include "eigen_autodiff/fast/reverse.hpp"

#include <limits>
#include <string>
#include <vector>

#include "check.hpp"

namespace ead = eigen_autodiff;

namespace {

Eigen::Tensor<double, 2> filled(ead::Index rows, ead::Index cols) {
  Eigen::Tensor<double, 2> t(rows, cols);
  t.setConstant(1.0);
  return t;
}

void convert_checks_offsets_and_sizes() {
  const auto w = filled(3, 2);
  CHECK_INVALID(ead::convert(w, 1, 6), "do not fit in a derivative vector of size 6");
  CHECK_INVALID(ead::convert(w, -1, 8), "convert");
  CHECK_INVALID(ead::convert(w, 0, -2), "convert");
  CHECK_INVALID(ead::convert(w, 0, 5), "shape (3, 2)");
  const ead::Index too_many = ead::Index(std::numeric_limits<int>::max()) + 1;
  CHECK_INVALID(ead::convert(w, 0, too_many), "exceeds AutoDiffScalar's largest derivative count");
  using Fixed4 = ead::FixedAD<double, 4>;
  using Fixed6 = ead::FixedAD<double, 6>;
  CHECK_INVALID(ead::convert<Fixed4>(w, 0, 6), "fixed derivative size 4");
  // The boundaries that fit.
  CHECK(ead::convert(w, 2, 8)(2, 1).derivatives()(7) == 1.0);
  CHECK(ead::convert<Fixed6>(w, 0, 6)(0, 0).derivatives()(0) == 1.0);
  CHECK(ead::convert(filled(0, 3), 0, 0).size() == 0);
}

void gradients_check_the_loss_size() {
  const auto x = ead::convert(filled(2, 2), 0, 6);
  const auto w = ead::convert(filled(2, 1), 4, 6);
  const ead::DynamicAD<double> short_loss(0.0, 5, 0);
  CHECK_INVALID(ead::gradients(short_loss, x, w), "too few for a parameter of shape (2, 1)");
  const ead::DynamicAD<double> unseeded(1.0);
  CHECK_INVALID(ead::gradients(unseeded, w), "was it seeded with convert?");
  CHECK_INVALID(ead::unpack_derivatives<double>(Eigen::VectorXd::Zero(4), -1, w), "offset -1");
  const ead::DynamicAD<double> loss(0.0, 6, 5);
  const auto [dx, dw] = ead::gradients(loss, x, w);
  CHECK(dx.dimension(0) == 2 && dw(1, 0) == 1.0);
}

void layer_functions_check_shapes() {
  const auto x = filled(2, 3);
  const auto w = filled(4, 1);
  CHECK_INVALID(ead::matrix_product(x, w), "X has shape (2, 3) and W has shape (4, 1)");
  CHECK_INVALID(ead::custom_layer(ead::convert(x), ead::convert(w), ead::activations::Sin{}),
                "must equal W's rows");
  std::vector<double> xs(6, 1.0), ws(4, 1.0), out(64, 0.0);
  const ead::ConstMatrixView<double> xv(xs.data(), 2, 3);
  const ead::ConstMatrixView<double> wv(ws.data(), 4, 1);
  const Eigen::DefaultDevice serial;
  Eigen::ThreadPool pool(2);
  const Eigen::ThreadPoolDevice device(&pool, 2);
  // Every fast path takes the layer as a DenseLayer, which checks the shapes.
  CHECK_INVALID(ead::DenseLayer<double>(xv, wv), "X has shape (2, 3) and W has shape (4, 1)");
  // An output of the wrong shape.
  const ead::ConstMatrixView<double> w_ok(ws.data(), 3, 1);
  CHECK_INVALID(
      ead::layer_values(serial, ead::DenseLayer<double>(xv, w_ok), ead::activations::Sin{},
                        ead::MatrixView<double>(out.data(), 3, 1)),
      "do not give a result of shape (3, 1)");
}

void buffers_are_checked() {
  std::vector<double> xs(6, 1.0), ws(3, 1.0), dx(6), dw(3, 7.0);
  const ead::ConstMatrixView<double> xv(xs.data(), 2, 3);
  const ead::ConstMatrixView<double> wv(ws.data(), 3, 1);
  const Eigen::DefaultDevice serial;
  Eigen::ThreadPool pool(1);
  const Eigen::ThreadPoolDevice device(&pool, 1);
  const ead::DenseLayer<double> layer(xv, wv);
  CHECK_INVALID(ead::layer_jacobian(device, layer, ead::activations::Sin{}, ead::ForwardWrt::x,
                                    static_cast<double*>(nullptr)),
                "layer_jacobian: out");
  CHECK_INVALID(
      ead::layer_vjp(device, layer, ead::activations::Sin{}, static_cast<const double*>(nullptr),
                     ead::LayerGradients<double>{dx.data(), nullptr, nullptr}),
      "layer_vjp: cotangent");
  CHECK_INVALID(
      ead::layer_jvp(device, layer, ead::activations::Sin{}, xs.data(),
                     static_cast<const double*>(nullptr), static_cast<const double*>(nullptr),
                     ead::MatrixView<double>(nullptr, 2, 1),
                     ead::MatrixView<double>(dx.data(), 2, 1)),
      "layer_jvp: y");
  double value = 0;
  double slope = 0;
  CHECK_INVALID(
      ead::activation_value_and_derivative(ead::activations::Sin{}, xs.data(), &value, &slope, -1),
      "n must be non-negative");
  CHECK_INVALID(
      ead::activation_value_and_derivative(ead::activations::Sin{},
                                           static_cast<const double*>(nullptr), &value, &slope, 1),
      "null pointer");
  // Nothing to write: null buffers are fine.
  ead::activation_value_and_derivative(ead::activations::Sin{}, static_cast<const double*>(nullptr),
                                       static_cast<double*>(nullptr), static_cast<double*>(nullptr),
                                       0);
  const ead::ConstMatrixView<double> empty(xs.data(), 0, 3);
  CHECK(ead::value_and_grad_reverse(serial, ead::DenseLayer<double>(empty, wv),
                                    ead::activations::Sin{}, ead::SquaredError<double>{},
                                    ead::LayerGradients<double>{nullptr, dw.data(), nullptr}) ==
        0.0);
  CHECK(dw[0] == 0.0 && dw[2] == 0.0);
}

void activation_names_are_checked() {
  CHECK_INVALID(ead::activation_from_name("swish"), "unknown activation 'swish'");
  CHECK_INVALID(ead::activation_from_name(""), "built-in activations: identity");
}

}  // namespace

int main() {
  convert_checks_offsets_and_sizes();
  gradients_check_the_loss_size();
  layer_functions_check_shapes();
  buffers_are_checked();
  activation_names_are_checked();
  return check::summary();
}
