// Argument checks shared by the library's entry points: a bad shape or a missing buffer is an
// invalid argument (Python sees ValueError) rather than a read or write out of bounds.
#pragma once

#include <stdexcept>
#include <string>

#include "eigen_autodiff/core/types.hpp"

namespace eigen_autodiff {

namespace detail {
inline std::string shape_string(Index rows, Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}
}  // namespace detail

inline void check_layer_shapes(Index x_rows, Index x_cols, Index w_rows, Index w_cols) {
  if (x_cols != w_rows) {
    throw std::invalid_argument(
        "custom layer: X has shape " + detail::shape_string(x_rows, x_cols) + " and W has shape " +
        detail::shape_string(w_rows, w_cols) + "; X's columns (" + std::to_string(x_cols) +
        ") must equal W's rows (" + std::to_string(w_rows) + ")");
  }
}

// A buffer the caller provides for `size` values must exist when there is anything to write.
template <typename T>
void check_buffer(const T* data, Index size, const char* what) {
  if (data == nullptr && size > 0) {
    throw std::invalid_argument(std::string(what) + ": a null pointer where " +
                                std::to_string(size) + " values are to be written");
  }
}

}  // namespace eigen_autodiff
