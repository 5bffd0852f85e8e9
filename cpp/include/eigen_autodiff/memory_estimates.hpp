// What each computation will allocate, estimated before it allocates anything, so that a request
// too large for the machine is refused with a clear message rather than suffered. Sizes are
// multiplied with saturation: shapes near 2**63 elements must not wrap around to small numbers.
#pragma once

#include <cstdint>
#include <limits>

#include "eigen_autodiff/traced_program.hpp"
#include "eigen_autodiff/types.hpp"

namespace eigen_autodiff {

namespace detail {
inline std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<std::uint64_t>::max()
                                                : product;
}
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<std::uint64_t>::max() : sum;
}
inline std::uint64_t count(Index n) { return static_cast<std::uint64_t>(n); }
inline std::uint64_t product(Index a, Index b) { return saturating_mul(count(a), count(b)); }
}  // namespace detail

// Number of derivatives each AD scalar carries when the article's forward mode computes the
// gradients w.r.t. the chosen parameters in one pass.
inline std::uint64_t forward_mode_derivative_count(Index batch, Index inputs, Index outputs,
                                                   bool wrt_x, bool wrt_w) {
  return detail::saturating_add(wrt_x ? detail::product(batch, inputs) : 0,
                                wrt_w ? detail::product(inputs, outputs) : 0);
}

// The layer's output Y, all that forward() allocates.
template <typename T>
std::uint64_t forward_bytes(Index batch, Index outputs) {
  return detail::saturating_mul(sizeof(T), detail::product(batch, outputs));
}

// Elementwise value and derivative: two arrays of n entries.
template <typename T>
std::uint64_t elementwise_bytes(Index n) {
  return detail::saturating_mul(2 * sizeof(T), detail::count(n));
}

// The outputs of value_and_grad: the gradients asked for.
template <typename T>
std::uint64_t gradient_bytes(Index batch, Index inputs, Index outputs, bool wrt_x, bool wrt_w) {
  return detail::saturating_mul(
      sizeof(T), forward_mode_derivative_count(batch, inputs, outputs, wrt_x, wrt_w));
}

// Reverse mode: the gradients and one B x M buffer for Z, then dL/dZ.
template <typename T>
std::uint64_t reverse_mode_bytes(Index batch, Index inputs, Index outputs, bool wrt_x, bool wrt_w) {
  return detail::saturating_add(gradient_bytes<T>(batch, inputs, outputs, wrt_x, wrt_w),
                                detail::saturating_mul(sizeof(T), detail::product(batch, outputs)));
}

// Chunked forward mode: as reverse mode, plus per task (at most 8 row blocks per chunk of K
// inputs) a column loss of M AD scalars of K derivatives.
template <typename T, int K>
std::uint64_t chunked_forward_bytes(Index batch, Index inputs, Index outputs, bool wrt_x,
                                    bool wrt_w) {
  const std::uint64_t tasks = detail::saturating_mul((detail::count(inputs) + K - 1) / K, 8);
  const std::uint64_t accumulators = detail::saturating_mul(
      detail::saturating_mul(tasks, detail::count(outputs)), (K + 1) * sizeof(T));
  return detail::saturating_add(reverse_mode_bytes<T>(batch, inputs, outputs, wrt_x, wrt_w),
                                accumulators);
}

// The article's forward mode: X, W and Z as AD scalars each carrying every derivative, twice
// over for the product's packed copies and the activation's output.
template <typename T>
std::uint64_t forward_mode_workspace_bytes(Index batch, Index inputs, Index outputs, bool wrt_x,
                                           bool wrt_w) {
  using detail::saturating_add;
  using detail::saturating_mul;
  const std::uint64_t scalars = saturating_add(
      saturating_add(detail::product(batch, inputs), detail::product(inputs, outputs)),
      detail::product(batch, outputs));
  const std::uint64_t per_scalar = saturating_add(
      sizeof(DynamicAD<T>),
      saturating_mul(forward_mode_derivative_count(batch, inputs, outputs, wrt_x, wrt_w),
                     sizeof(T)));
  return saturating_mul(2, saturating_mul(scalars, per_scalar));
}

// The Jacobian of Y (B x M) w.r.t. a parameter of `parameter_size` entries, plus Z.
template <typename T>
std::uint64_t jacobian_bytes(Index batch, Index outputs, Index parameter_size) {
  const std::uint64_t entries =
      detail::saturating_mul(detail::product(batch, outputs), detail::count(parameter_size));
  return detail::saturating_mul(sizeof(T),
                                detail::saturating_add(entries, detail::product(batch, outputs)));
}

// A traced program's registers (traced_activation.hpp) when it is evaluated on scalars of type S
// over `width` elements at once, in each of `tasks` tasks running at the same time: every
// register of every bank for every element. An S carrying `heap_derivatives` derivatives on the
// heap (the article's dynamic vectors) has them counted too.
template <typename S, typename T>
std::uint64_t traced_register_bytes(const TracedProgram& program, Index width, Index tasks,
                                    Index heap_derivatives = 0) {
  using detail::saturating_add;
  using detail::saturating_mul;
  const std::uint64_t per_ad_register =
      saturating_add(sizeof(S), detail::product(heap_derivatives, static_cast<Index>(sizeof(T))));
  const std::uint64_t per_element = saturating_add(
      saturating_add(saturating_mul(program.registers(TracedProgram::ad_bank), per_ad_register),
                     saturating_mul(program.registers(TracedProgram::value_bank), sizeof(T))),
      program.registers(TracedProgram::condition_bank) * sizeof(bool));
  return saturating_mul(per_element, detail::product(width, tasks));
}

}  // namespace eigen_autodiff
