// The three matrix products of the layer, C = op(A) . op(B) on row-major views, each computed the
// fastest way Eigen offers for its size: Eigen::Tensor contraction on the thread pool when the
// device has several threads, Eigen's dense product (the same GEMM kernels without the Tensor
// module's set-up, about 7x cheaper on a 3x3 layer) in the calling thread otherwise.
#pragma once

#include <algorithm>
#include <stdexcept>

#include "eigen_autodiff/core/checks.hpp"
#include "eigen_autodiff/core/interrupts.hpp"

namespace eigen_autodiff {

// Above this many multiply-adds (a few hundredths of a second on the pool), a product on the pool
// is computed in panels of rows of C, and between panels the computation may stop (Ctrl-C, see
// interrupts.hpp): one contraction cannot be interrupted.
inline constexpr double panel_multiply_adds = 2147483648.0;

// Which index of each operand is contracted: A's last and B's first is A.B.
enum class Transpose { none, a, b };

template <typename T, typename Device>
void contract(const Device& device, ConstMatrixView<T> a, ConstMatrixView<T> b, Transpose op,
              MatrixView<T> c) {
  const Index inner = op == Transpose::a ? a.dimension(0) : a.dimension(1);
  const Index rows = op == Transpose::a ? a.dimension(1) : a.dimension(0);
  const Index cols = op == Transpose::b ? b.dimension(0) : b.dimension(1);
  const Index b_inner = op == Transpose::b ? b.dimension(1) : b.dimension(0);
  if (inner != b_inner || c.dimension(0) != rows || c.dimension(1) != cols) {
    throw std::invalid_argument(
        "contract: operands of shapes " + detail::shape_string(a.dimension(0), a.dimension(1)) +
        " and " + detail::shape_string(b.dimension(0), b.dimension(1)) +
        " do not give a result of shape " + detail::shape_string(c.dimension(0), c.dimension(1)));
  }
  if (c.size() == 0) {
    return;
  }
  if (inner == 0) {
    c.setZero();
    return;
  }
  if (device.numThreads() > 1) {
    const Index a_index = op == Transpose::a ? 0 : 1;
    const Index b_index = op == Transpose::b ? 1 : 0;
    const Eigen::array<Eigen::IndexPair<Index>, 1> dims = {
        Eigen::IndexPair<Index>(a_index, b_index)};
    const double multiply_adds =
        static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(inner);
    if (multiply_adds <= panel_multiply_adds) {
      c.device(device) = a.contract(b, dims);
      return;
    }
    // Panels of C's rows, fixed by the shapes alone (results do not depend on the thread count).
    const auto panel_rows = std::max<Index>(
        1, static_cast<Index>(panel_multiply_adds /
                              (static_cast<double>(cols) * static_cast<double>(inner))));
    for (Index r0 = 0; r0 < rows; r0 += panel_rows) {
      cancellation_point();
      const Index panel = std::min(panel_rows, rows - r0);
      MatrixView<T> c_panel(c.data() + r0 * cols, panel, cols);
      if (op == Transpose::a) {
        // Rows of C are columns of A here.
        const Eigen::array<Index, 2> offsets = {0, r0};
        const Eigen::array<Index, 2> extents = {inner, panel};
        c_panel.device(device) = a.slice(offsets, extents).contract(b, dims);
      } else {
        c_panel.device(device) =
            ConstMatrixView<T>(a.data() + r0 * inner, panel, inner).contract(b, dims);
      }
    }
    return;
  }
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const Matrix> a_matrix(a.data(), a.dimension(0), a.dimension(1));
  const Eigen::Map<const Matrix> b_matrix(b.data(), b.dimension(0), b.dimension(1));
  Eigen::Map<Matrix> c_matrix(c.data(), rows, cols);
  switch (op) {
    case Transpose::none:
      c_matrix.noalias() = a_matrix * b_matrix;
      break;
    case Transpose::a:
      c_matrix.noalias() = a_matrix.transpose() * b_matrix;
      break;
    case Transpose::b:
      c_matrix.noalias() = a_matrix * b_matrix.transpose();
      break;
  }
}

// z = x . w, the layer's product.
template <typename T, typename Device>
void contract_into(const Device& device, ConstMatrixView<T> x, ConstMatrixView<T> w,
                   MatrixView<T> z) {
  check_layer_shapes(x.dimension(0), x.dimension(1), w.dimension(0), w.dimension(1));
  contract(device, x, w, Transpose::none, z);
}

}  // namespace eigen_autodiff
