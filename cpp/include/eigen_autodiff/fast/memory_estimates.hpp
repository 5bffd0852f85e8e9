// What each computation will allocate, estimated before it allocates anything, so that a request
// too large for the machine is refused with a clear message rather than suffered. Sizes are
// multiplied with saturation: shapes near 2**63 elements must not wrap around to small numbers.
#pragma once

#include <cstdint>
#include <limits>

#include "eigen_autodiff/core/types.hpp"
#include "eigen_autodiff/traced/program.hpp"

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

// Which gradients a request asks for: w.r.t. X, W, b.
struct Wanted {
  bool x = false;
  bool w = false;
  bool b = false;
};

// The entries of the parameters wanted: the derivatives each AD scalar carries when the article's
// forward mode computes their gradients in one pass, and the size of the gradients.
inline std::uint64_t wanted_entries(Index batch, Index inputs, Index outputs, Wanted wanted) {
  using detail::product;
  return detail::saturating_add(detail::saturating_add(wanted.x ? product(batch, inputs) : 0,
                                                       wanted.w ? product(inputs, outputs) : 0),
                                wanted.b ? detail::count(outputs) : 0);
}

// The layer's output Y, all that layer_values allocates.
template <typename T>
std::uint64_t layer_values_bytes(Index batch, Index outputs) {
  return detail::saturating_mul(sizeof(T), detail::product(batch, outputs));
}

// Elementwise value and derivative: two arrays of n entries.
template <typename T>
std::uint64_t elementwise_bytes(Index n) {
  return detail::saturating_mul(2 * sizeof(T), detail::count(n));
}

// Reverse mode and the VJP: the gradients wanted and one B x M buffer for Z, then dL/dZ.
template <typename T>
std::uint64_t reverse_bytes(Index batch, Index inputs, Index outputs, Wanted wanted) {
  return detail::saturating_mul(
      sizeof(T), detail::saturating_add(wanted_entries(batch, inputs, outputs, wanted),
                                        detail::product(batch, outputs)));
}

// The JVP: Y, its tangent and one B x M product.
template <typename T>
std::uint64_t jvp_bytes(Index batch, Index outputs) {
  return detail::saturating_mul(3 * sizeof(T), detail::product(batch, outputs));
}

// Forward mode (chunked, fast/forward.hpp): as reverse mode plus a copy of Z and act'(Z), and per
// task (at most 8 row blocks per chunk of K inputs) a column loss of M AD scalars of K
// derivatives.
template <typename T, int K>
std::uint64_t forward_bytes(Index batch, Index inputs, Index outputs, Wanted wanted) {
  const std::uint64_t tasks = detail::saturating_mul((detail::count(inputs) + K - 1) / K, 8);
  const std::uint64_t accumulators = detail::saturating_mul(
      detail::saturating_mul(tasks, detail::count(outputs)), (K + 1) * sizeof(T));
  return detail::saturating_add(
      detail::saturating_add(reverse_bytes<T>(batch, inputs, outputs, wanted), accumulators),
      detail::saturating_mul(2, layer_values_bytes<T>(batch, outputs)));
}

// The article's forward mode (article/forward_dynamic.hpp): X, W, b and Z as AD scalars each
// carrying every derivative, twice over for the product's packed copies and the activation's
// output.
template <typename T>
std::uint64_t forward_dynamic_bytes(Index batch, Index inputs, Index outputs, Wanted wanted) {
  using detail::saturating_add;
  using detail::saturating_mul;
  const std::uint64_t scalars = saturating_add(
      saturating_add(detail::product(batch, inputs), detail::product(inputs, outputs)),
      saturating_add(detail::product(batch, outputs), detail::count(outputs)));
  const std::uint64_t per_scalar =
      saturating_add(sizeof(DynamicAD<T>),
                     saturating_mul(wanted_entries(batch, inputs, outputs, wanted), sizeof(T)));
  return saturating_mul(2, saturating_mul(scalars, per_scalar));
}

// Second derivatives of a parameter of `parameter_size` entries: the Hessian-vector product
// (Z, its tangent and the result), the full Hessian (its entries, Z and the curvature), and the
// VJP of the VJP (Z and five more B x M buffers, and the outputs).
template <typename T>
std::uint64_t hvp_bytes(Index batch, Index outputs, Index parameter_size) {
  return detail::saturating_mul(
      sizeof(T), detail::saturating_add(detail::saturating_mul(2, detail::product(batch, outputs)),
                                        detail::count(parameter_size)));
}

template <typename T>
std::uint64_t hessian_bytes(Index batch, Index outputs, Index parameter_size) {
  return detail::saturating_mul(
      sizeof(T),
      detail::saturating_add(detail::product(parameter_size, parameter_size),
                             detail::saturating_mul(2, detail::product(batch, outputs))));
}

template <typename T>
std::uint64_t vjp_of_vjp_bytes(Index batch, Index inputs, Index outputs, Wanted wanted) {
  return detail::saturating_mul(
      sizeof(T), detail::saturating_add(detail::saturating_mul(7, detail::product(batch, outputs)),
                                        wanted_entries(batch, inputs, outputs, wanted)));
}

// The Jacobian of Y (B x M) w.r.t. a parameter of `parameter_size` entries, plus Z and act'(Z).
template <typename T>
std::uint64_t jacobian_bytes(Index batch, Index outputs, Index parameter_size) {
  const std::uint64_t entries =
      detail::saturating_mul(detail::product(batch, outputs), detail::count(parameter_size));
  return detail::saturating_mul(
      sizeof(T),
      detail::saturating_add(entries, detail::saturating_mul(2, detail::product(batch, outputs))));
}

// A traced program's registers (traced/interpreter.hpp) when it is evaluated on scalars of type S
// over `width` elements at once, in each of `tasks` tasks running at the same time: every
// register of every bank for every element (a condition as wide as T: a mask on lanes). An S
// carrying `heap_derivatives` derivatives on the heap (the article's dynamic vectors) has them
// counted too.
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
      program.registers(TracedProgram::condition_bank) * sizeof(T));
  return saturating_mul(per_element, detail::product(width, tasks));
}

}  // namespace eigen_autodiff
