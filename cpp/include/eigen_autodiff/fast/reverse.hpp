// The layer's loss, gradients and vector-Jacobian products by reverse mode, the way a framework's
// backward pass does it: Z = X.W + b by contraction; each element's loss term on a one-derivative
// AutoDiffScalar gives dL/dZ exactly (or, for a VJP, the cotangent times act'(z)); then
// dW = X^T.G, dX = G.W^T and db = the column sums of G.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/dense_layer.hpp"
#include "eigen_autodiff/core/scratch.hpp"

namespace eigen_autodiff {

// y = activation(x . w + b), written into y (shape B x M). Act is any elementwise function object
// callable on T and on AutoDiffScalar (a built-in from activations.hpp, or a user's own).
template <typename T, typename Device, typename Act>
void layer_values(const Device& device, const DenseLayer<T>& layer, const Act& activation,
                  MatrixView<T> y) {
  pre_activations(device, layer, y);
  T* data = y.data();
  for_each_block(device, y.size(), [&](Index, Index first, Index last) {
    // Unqualified: an activation may overload it to evaluate a range at once (ADL).
    activation_values(activation, data + first, data + first, last - first);
  });
}

namespace detail {
inline constexpr Index slice_size = 256;

// For every slice of a block of z: act(z) and act'(z) (unqualified, so that an activation may
// overload activation_value_and_derivative to evaluate a range at once, by ADL), handed to
// fn(first, count, value, slope) together with the slice's place in z.
template <typename T, typename Act, typename Fn>
void for_each_slice(const Act& activation, const T* z, Index first, Index last, Fn&& fn) {
  T value[slice_size];
  T slope[slice_size];
  for (Index start = first; start < last; start += slice_size) {
    const Index count = std::min(slice_size, last - start);
    activation_value_and_derivative(activation, z + start, value, slope, count);
    fn(start, count, value, slope);
  }
}

// The sum of `count` values in double, in a fixed order: eight running sums, so that the additions
// do not wait on each other (one chain of dependent additions took a fifth of a 64x64x64
// float32 gradient), added pairwise at the end.
template <typename T>
double sum_in_double(const T* values, Index count) {
  constexpr Index ways = 8;
  double partial[ways] = {};
  Index k = 0;
  for (; k + ways <= count; k += ways) {
    for (Index i = 0; i < ways; ++i) {
      partial[i] += static_cast<double>(values[k + i]);
    }
  }
  for (Index i = 0; k < count; ++k, ++i) {
    partial[i] += static_cast<double>(values[k]);
  }
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}
}  // namespace detail

// Replaces each z by dL/dz for L = scale * sum (act(z) - target)^2 and returns L, each element's
// term differentiated on a one-derivative AutoDiffScalar (over SIMD lanes for float and double);
// accumulated in double per block and summed in block order (reproducible for any thread count).
template <typename T, typename Device, typename Act>
double loss_and_output_gradient(const Device& device, const Act& activation,
                                const SquaredError<T>& loss, MatrixView<T> z) {
  std::vector<double> block_loss(static_cast<std::size_t>(block_count(z.size())), 0.0);
  T* data = z.data();
  const T scale = static_cast<T>(loss.scale);
  // One element's (or one packet's) loss term, y carrying act'(z) as its derivative.
  const auto term_of = [scale](const auto& y, const auto& target) {
    using AD = std::decay_t<decltype(y)>;
    const AD error = y - target;
    return AD(value_type_t<AD>(scale) * (error * error));
  };
  for_each_block(device, z.size(), [&](Index block, Index first, Index last) {
    double sum = 0;
    detail::for_each_slice(
        activation, data, first, last,
        [&](Index start, Index count, const T* value, const T* slope) {
          T terms[detail::slice_size];
          Index k = 0;
          if constexpr (has_lanes<T>) {
            using L = Lanes<T>;
            for (; k + L::size <= count; k += L::size) {
              const LanesAD<T> y(L::load(value + k), Eigen::Matrix<L, 1, 1>(L::load(slope + k)));
              const L target = loss.target ? L::load(loss.target + start + k) : L(T(0));
              const LanesAD<T> term = term_of(y, target);
              term.value().store(terms + k);
              term.derivatives()(0).store(data + start + k);
            }
          }
          for (; k < count; ++k) {
            const ScalarAD<T> y(value[k], Eigen::Matrix<T, 1, 1>(slope[k]));
            const ScalarAD<T> term = term_of(y, loss.target ? loss.target[start + k] : T(0));
            terms[k] = term.value();
            data[start + k] = term.derivatives()(0);
          }
          sum += detail::sum_in_double(terms, count);
        });
    block_loss[static_cast<std::size_t>(block)] = sum;
  });
  double total = 0;
  for (double partial : block_loss) {
    total += partial;
  }
  return total;
}

// Replaces each z by cotangent * act'(z), act' from a one-derivative AutoDiffScalar: the gradient
// w.r.t. Z of <cotangent, act(Z)>.
template <typename T, typename Device, typename Act>
void cotangent_to_pre_activations(const Device& device, const Act& activation, const T* cotangent,
                                  MatrixView<T> z) {
  T* data = z.data();
  for_each_block(device, z.size(), [&](Index, Index first, Index last) {
    detail::for_each_slice(activation, data, first, last,
                           [&](Index start, Index count, const T*, const T* slope) {
                             for (Index k = 0; k < count; ++k) {
                               data[start + k] = cotangent[start + k] * slope[k];
                             }
                           });
  });
}

// db[j] = sum over rows of g[:, j], split by blocks of columns: the same sums, in the same order,
// for any number of threads.
template <typename T, typename Device>
void column_sums(const Device& device, ConstMatrixView<T> g, T* db) {
  const Index rows = g.dimension(0);
  const Index cols = g.dimension(1);
  constexpr Index block = 64;
  parallel_for(device, (cols + block - 1) / block, [&](Index task) {
    const Index first = task * block;
    const Index last = std::min(cols, first + block);
    std::fill(db + first, db + last, T(0));
    for (Index row = 0; row < rows; ++row) {
      const T* g_row = g.data() + row * cols;
      for (Index j = first; j < last; ++j) {
        db[j] += g_row[j];
      }
    }
  });
}

// From G = dL/dZ: dW = X^T.G, dX = G.W^T, db = column sums of G, each where wanted.
template <typename T, typename Device>
void backward_products(const Device& device, const DenseLayer<T>& layer, ConstMatrixView<T> g,
                       const LayerGradients<T>& grads) {
  if (grads.dw != nullptr) {
    // Contract the batch index of both.
    contract(device, layer.x, g, Transpose::a,
             MatrixView<T>(grads.dw, layer.inputs(), layer.outputs()));
  }
  if (grads.dx != nullptr) {
    // Contract the output index of both.
    contract(device, g, layer.w, Transpose::b,
             MatrixView<T>(grads.dx, layer.batch(), layer.inputs()));
  }
  if (grads.db != nullptr) {
    column_sums(device, g, grads.db);
  }
}

// Returns L = scale * sum((act(X.W + b) - target)^2) and writes its gradients where wanted.
// Allocates B*M values of its own for dL/dZ.
template <typename T, typename Device, typename Act>
double value_and_grad_reverse(const Device& device, const DenseLayer<T>& layer,
                              const Act& activation, const SquaredError<T>& loss,
                              const LayerGradients<T>& grads) {
  ScratchBuffer<T> workspace(static_cast<std::size_t>(layer.batch() * layer.outputs()));
  MatrixView<T> g(workspace.data(), layer.batch(), layer.outputs());
  pre_activations(device, layer, g);
  const double value = loss_and_output_gradient(device, activation, loss, g);
  backward_products(device, layer,
                    ConstMatrixView<T>(workspace.data(), g.dimension(0), g.dimension(1)), grads);
  return value;
}

// The vector-Jacobian product of Y = act(X.W + b) with a cotangent of Y's shape (B x M): the
// gradients of <cotangent, Y> w.r.t. X, W and b, written where wanted. The general reverse mode,
// of which value_and_grad_reverse is the case cotangent = dL/dY.
template <typename T, typename Device, typename Act>
void layer_vjp(const Device& device, const DenseLayer<T>& layer, const Act& activation,
               const T* cotangent, const LayerGradients<T>& grads) {
  const Index size = layer.batch() * layer.outputs();
  check_buffer(cotangent, size, "layer_vjp: cotangent");
  ScratchBuffer<T> workspace(static_cast<std::size_t>(size));
  MatrixView<T> g(workspace.data(), layer.batch(), layer.outputs());
  pre_activations(device, layer, g);
  cotangent_to_pre_activations(device, activation, cotangent, g);
  backward_products(device, layer,
                    ConstMatrixView<T>(workspace.data(), g.dimension(0), g.dimension(1)), grads);
}

// Y = act(X.W + b) and its derivative dY along tangents tx, tw, tb (of X's, W's and b's shapes;
// null for a zero tangent) by forward mode: the tangent of Z, tX.W + X.tW + tb, is exact (Z is
// linear in each), and the activation's derivative from a one-derivative AutoDiffScalar carries
// it through act.
template <typename T, typename Device, typename Act>
void layer_jvp(const Device& device, const DenseLayer<T>& layer, const Act& activation, const T* tx,
               const T* tw, const T* tb, MatrixView<T> y, MatrixView<T> dy) {
  const Index batch = layer.batch();
  const Index outputs = layer.outputs();
  check_buffer(y.data(), batch * outputs, "layer_jvp: y");
  check_buffer(dy.data(), batch * outputs, "layer_jvp: dy");
  pre_activations(device, layer, y);
  if (tx != nullptr) {
    contract_into(device, ConstMatrixView<T>(tx, batch, layer.inputs()), layer.w, dy);
  } else {
    dy.setZero();
  }
  add_to_rows(device, tb, dy);
  if (tw != nullptr) {
    ScratchBuffer<T> product(static_cast<std::size_t>(batch * outputs));
    contract_into(device, layer.x, ConstMatrixView<T>(tw, layer.inputs(), outputs),
                  MatrixView<T>(product.data(), batch, outputs));
    for (Index k = 0; k < batch * outputs; ++k) {
      dy.data()[k] += product[static_cast<std::size_t>(k)];
    }
  }
  T* values = y.data();
  T* tangents = dy.data();
  for_each_block(device, y.size(), [&](Index, Index first, Index last) {
    detail::for_each_slice(activation, values, first, last,
                           [&](Index start, Index count, const T* value, const T* slope) {
                             for (Index k = 0; k < count; ++k) {
                               values[start + k] = value[k];
                               tangents[start + k] *= slope[k];
                             }
                           });
  });
}

}  // namespace eigen_autodiff
