// Second derivatives by nested AutoDiffScalar, the classic way to get Hessians from Eigen's
// AutoDiff: an AutoDiffScalar whose value and derivatives are themselves AutoDiffScalars. The inner
// level carries d/dz, the outer level a tangent, so one evaluation gives f, f', and f'' along the
// tangent. On top of the activation's second derivative (core/activations.hpp): the
// Hessian-vector product of the layer's loss by forward-over-reverse (a tangent through the
// reverse pass), its full Hessian from the layer's structure, and the VJP of the VJP that
// frameworks need to differentiate twice.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "eigen_autodiff/core/scratch.hpp"
#include "eigen_autodiff/fast/jacobian.hpp"
#include "eigen_autodiff/fast/reverse.hpp"

namespace eigen_autodiff {

namespace detail {
// For each element of z (with loss's target): the loss term's second derivative along dz,
// d^2 term / dz^2 * dz. The activation's value, first and second derivative come a slice at a
// time from second_derivative (unqualified, so that traced programs evaluate the slice at once);
// the term itself is differentiated twice on nested AutoDiffScalars seeded with them (over SIMD
// lanes for float and double). Replaces dz.
template <typename T, typename Device, typename Act>
void loss_term_second_along(const Device& device, const Act& activation,
                            const SquaredError<T>& loss, const T* z, T* dz, Index n) {
  // act(z) along z + dz: f and f' on the inner level, f' dz and f'' dz on the outer one.
  const auto term_second_along = [&loss](const auto& f, const auto& first, const auto& second,
                                         const auto& tangent, const auto& target) {
    using P = std::decay_t<decltype(f)>;
    using Inner = ScalarAD<P>;
    using AD = SecondOrderAD<P>;
    const Inner scale(P(static_cast<T>(loss.scale)));
    const AD y(Inner(f, Eigen::Matrix<P, 1, 1>(first)),
               Eigen::Matrix<Inner, 1, 1>(
                   Inner(first * tangent, Eigen::Matrix<P, 1, 1>(second * tangent))));
    const AD error = y - target;
    return second_along(AD(scale * (error * error)));
  };
  for_each_block(device, n, [&](Index, Index first, Index last) {
    T value[slice_size];
    T slope[slice_size];
    T curvature[slice_size];
    for (Index start = first; start < last; start += slice_size) {
      const Index count = std::min(slice_size, last - start);
      second_derivative(activation, z + start, value, slope, curvature, count);
      T* tangent = dz + start;
      const T* target = loss.target ? loss.target + start : nullptr;
      if constexpr (has_lanes<T>) {
        for (Index k = 0; k < count; k += Lanes<T>::size) {
          const Index lanes = std::min<Index>(Lanes<T>::size, count - k);
          const auto load = [k, lanes](const T* from) { return load_first(from + k, lanes); };
          store_first(term_second_along(load(value), load(slope), load(curvature), load(tangent),
                                        target ? load(target) : Lanes<T>(T(0))),
                      tangent + k, lanes);
        }
      } else {
        for (Index k = 0; k < count; ++k) {
          tangent[k] = term_second_along(value[k], slope[k], curvature[k], tangent[k],
                                         target ? target[k] : T(0));
        }
      }
    }
  });
}
}  // namespace detail

// H v for the Hessian H of L = scale * sum((act(X.W + b) - target)^2) w.r.t. one parameter and v
// of its shape, by forward-over-reverse: the tangent of Z along v (X.v, v.W or v itself) rides
// through the loss's gradient dL/dZ on nested AutoDiffScalars, then through the backward
// product of that parameter. out has the parameter's shape.
template <typename T, typename Device, typename Act>
void hessian_vector_product(const Device& device, const DenseLayer<T>& layer, const Act& activation,
                            const SquaredError<T>& loss, ForwardWrt wrt, const T* v, T* out) {
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  check_buffer(v, parameter_size(layer, wrt), "hessian_vector_product: vector");
  check_buffer(out, parameter_size(layer, wrt), "hessian_vector_product: out");
  ScratchBuffer<T> z(static_cast<std::size_t>(batch * outputs));
  ScratchBuffer<T> dz(z.size());
  MatrixView<T> dz_view(dz.data(), batch, outputs);
  pre_activations(device, layer, MatrixView<T>(z.data(), batch, outputs));
  switch (wrt) {
    case ForwardWrt::w:
      contract_into(device, layer.x, ConstMatrixView<T>(v, inputs, outputs), dz_view);
      break;
    case ForwardWrt::x:
      contract_into(device, ConstMatrixView<T>(v, batch, inputs), layer.w, dz_view);
      break;
    case ForwardWrt::b:
      dz_view.setZero();
      add_to_rows(device, v, dz_view);
      break;
  }
  detail::loss_term_second_along(device, activation, loss, z.data(), dz.data(), z.size());
  // W is held fixed when X moves and the other way round: only the moving parameter's own
  // backward product carries the tangent.
  LayerGradients<T> grads;
  (wrt == ForwardWrt::w ? grads.dw : wrt == ForwardWrt::x ? grads.dx : grads.db) = out;
  backward_products(device, layer, ConstMatrixView<T>(dz.data(), batch, outputs), grads);
}

// The full Hessian of L w.r.t. one parameter p, written into out as p.shape + p.shape (the
// layout of jax.hessian). The layer's structure gives it without a pass per entry: with
// c = d^2 L / dZ^2 elementwise (nested AutoDiffScalars), W's Hessian is block diagonal over
// output columns, H_j = X^T diag(c[:, j]) X; X's over rows, H_b = W diag(c[b, :]) W^T; b's
// diagonal, the column sums of c.
template <typename T, typename Device, typename Act>
void hessian(const Device& device, const DenseLayer<T>& layer, const Act& activation,
             const SquaredError<T>& loss, ForwardWrt wrt, T* out) {
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  const Index size = parameter_size(layer, wrt);
  check_buffer(out, size * size, "hessian: out");
  std::fill(out, out + size * size, T(0));
  ScratchBuffer<T> z(static_cast<std::size_t>(batch * outputs));
  ScratchBuffer<T> c(z.size());
  std::fill_n(c.data(), c.size(), T(1));
  pre_activations(device, layer, MatrixView<T>(z.data(), batch, outputs));
  detail::loss_term_second_along(device, activation, loss, z.data(), c.data(), z.size());
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Matrix> x(layer.x.data(), batch, inputs);
  const Eigen::Map<const Matrix> w(layer.w.data(), inputs, outputs);
  const Eigen::Map<const Matrix> curvature(c.data(), batch, outputs);
  switch (wrt) {
    case ForwardWrt::w:
      // Entry ((i, j), (k, l)) at (i*M + j)*size + k*M + l, non-zero for j == l.
      parallel_for(device, outputs, [&](Index j) {
        const Matrix block = x.transpose() * curvature.col(j).asDiagonal() * x;
        for (Index i = 0; i < inputs; ++i) {
          for (Index k = 0; k < inputs; ++k) {
            out[(i * outputs + j) * size + k * outputs + j] = block(i, k);
          }
        }
      });
      break;
    case ForwardWrt::x:
      // Entry ((b, i), (a, k)) at (b*N + i)*size + a*N + k, non-zero for a == b.
      parallel_for(device, batch, [&](Index b) {
        const Matrix block = w * curvature.row(b).transpose().asDiagonal() * w.transpose();
        for (Index i = 0; i < inputs; ++i) {
          for (Index k = 0; k < inputs; ++k) {
            out[(b * inputs + i) * size + b * inputs + k] = block(i, k);
          }
        }
      });
      break;
    case ForwardWrt::b: {
      std::vector<T> diagonal(static_cast<std::size_t>(outputs));
      column_sums(device, ConstMatrixView<T>(c.data(), batch, outputs), diagonal.data());
      for (Index j = 0; j < outputs; ++j) {
        out[j * size + j] = diagonal[static_cast<std::size_t>(j)];
      }
      break;
    }
  }
}

// Where the second-order VJP writes: the gradients of <(gx, gw, gb), layer_vjp(x, w, b, ct)>
// w.r.t. X, W, b and the cotangent ct; null for the ones not wanted.
template <typename T>
struct SecondOrderGradients {
  T* dx = nullptr;
  T* dw = nullptr;
  T* db = nullptr;
  T* dcotangent = nullptr;
};

// The VJP of layer_vjp, so that a framework differentiates the layer twice (double backward).
// layer_vjp gives (G W^T, X^T G, colsum G) with G = ct * act'(Z); for upstream gradients gx, gw,
// gb of those (null: zero), with R = gx.W + X.gw + gb and act', act'' from nested
// AutoDiffScalars:
//   d/dct = act'(Z) R;  with Zbar = ct act''(Z) R:  d/dX = Zbar W^T + G gw^T,
//   d/dW = X^T Zbar + gx^T G,  d/db = colsum(Zbar).
template <typename T, typename Device, typename Act>
void layer_vjp_of_vjp(const Device& device, const DenseLayer<T>& layer, const Act& activation,
                      const T* cotangent, const T* gx, const T* gw, const T* gb,
                      const SecondOrderGradients<T>& grads) {
  const Index batch = layer.batch();
  const Index inputs = layer.inputs();
  const Index outputs = layer.outputs();
  const Index size = batch * outputs;
  check_buffer(cotangent, size, "layer_vjp_of_vjp: cotangent");
  ScratchBuffer<T> z(static_cast<std::size_t>(size));
  ScratchBuffer<T> first(z.size()), second(z.size()), r(z.size()), g(z.size());
  MatrixView<T> r_view(r.data(), batch, outputs);
  pre_activations(device, layer, MatrixView<T>(z.data(), batch, outputs));
  // R = gx.W + X.gw + gb.
  if (gx != nullptr) {
    contract_into(device, ConstMatrixView<T>(gx, batch, inputs), layer.w, r_view);
  } else {
    r_view.setZero();
  }
  if (gw != nullptr) {
    ScratchBuffer<T> product(z.size());
    contract_into(device, layer.x, ConstMatrixView<T>(gw, inputs, outputs),
                  MatrixView<T>(product.data(), batch, outputs));
    for (Index k = 0; k < size; ++k) {
      r[static_cast<std::size_t>(k)] += product[static_cast<std::size_t>(k)];
    }
  }
  add_to_rows(device, gb, r_view);
  for_each_block(device, size, [&](Index, Index begin, Index end) {
    std::vector<T> value(static_cast<std::size_t>(end - begin));
    second_derivative(activation, z.data() + begin, value.data(), first.data() + begin,
                      second.data() + begin, end - begin);
    for (Index k = begin; k < end; ++k) {
      g[k] = cotangent[k] * first[k];
      if (grads.dcotangent != nullptr) {
        grads.dcotangent[k] = first[k] * r[k];
      }
      // Zbar, in place of z.
      z[k] = cotangent[k] * second[k] * r[k];
    }
  });
  const ConstMatrixView<T> z_bar(z.data(), batch, outputs);
  const ConstMatrixView<T> g_view(g.data(), batch, outputs);
  backward_products(device, layer, z_bar, {grads.dx, grads.dw, grads.db});
  if (grads.dx != nullptr && gw != nullptr) {
    ScratchBuffer<T> product(static_cast<std::size_t>(batch * inputs));
    contract(device, g_view, ConstMatrixView<T>(gw, inputs, outputs), Transpose::b,
             MatrixView<T>(product.data(), batch, inputs));
    for (Index k = 0; k < batch * inputs; ++k) {
      grads.dx[k] += product[static_cast<std::size_t>(k)];
    }
  }
  if (grads.dw != nullptr && gx != nullptr) {
    ScratchBuffer<T> product(static_cast<std::size_t>(inputs * outputs));
    contract(device, ConstMatrixView<T>(gx, batch, inputs), g_view, Transpose::a,
             MatrixView<T>(product.data(), inputs, outputs));
    for (Index k = 0; k < inputs * outputs; ++k) {
      grads.dw[k] += product[static_cast<std::size_t>(k)];
    }
  }
}

}  // namespace eigen_autodiff
