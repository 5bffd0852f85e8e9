// The layer's loss L = scale * sum((act(X.W + b) - target)^2) and its gradients by any of the
// three modes, chosen at run time: the one entry point that names the modes, their memory needs
// and their work.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "eigen_autodiff/article/forward_dynamic.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"
#include "eigen_autodiff/fast/reverse.hpp"

namespace eigen_autodiff {

// reverse: value_and_grad_reverse, three products like a framework's backward pass.
// forward: value_and_grad_forward, chunked forward mode with seed compression.
// forward_dynamic: value_and_grad_forward_dynamic, the article's method (one dynamic derivative
// vector holding every parameter), exact but slow: the baseline.
enum class Mode { reverse, forward, forward_dynamic };

inline constexpr std::array<std::pair<std::string_view, Mode>, 3> modes = {{
    {"reverse", Mode::reverse},
    {"forward", Mode::forward},
    {"forward_dynamic", Mode::forward_dynamic},
}};

inline std::string_view mode_name(Mode mode) {
  for (const auto& [name, m] : modes) {
    if (m == mode) {
      return name;
    }
  }
  throw std::invalid_argument("unknown mode enumerator");
}

// What value_and_grad in `mode` allocates.
template <typename T>
std::uint64_t value_and_grad_bytes(Mode mode, Index batch, Index inputs, Index outputs,
                                   Wanted wanted) {
  switch (mode) {
    case Mode::reverse:
      return reverse_bytes<T>(batch, inputs, outputs, wanted);
    case Mode::forward:
      return forward_bytes<T, forward_chunk_size>(batch, inputs, outputs, wanted);
    case Mode::forward_dynamic:
      return forward_dynamic_bytes<T>(batch, inputs, outputs, wanted);
  }
  throw std::invalid_argument("unknown mode enumerator");
}

// About how many multiply-adds value_and_grad in `mode` does: what decides whether handing it to
// other threads pays.
inline double value_and_grad_multiply_adds(Mode mode, Index batch, Index inputs, Index outputs,
                                           Wanted wanted) {
  const double layer =
      static_cast<double>(batch) * static_cast<double>(inputs) * static_cast<double>(outputs);
  switch (mode) {
    case Mode::reverse:
      return 3 * layer;
    case Mode::forward:
      // Each of the N/K passes does about B*M*K^2 work.
      return layer * (forward_chunk_size * (int{wanted.x} + int{wanted.w}) + 1);
    case Mode::forward_dynamic:
      return layer * static_cast<double>(wanted_entries(batch, inputs, outputs, wanted));
  }
  throw std::invalid_argument("unknown mode enumerator");
}

// Returns L = scale * sum((act(X.W + b) - target)^2) and writes its gradients where wanted. The
// article's forward mode always runs in the calling thread.
template <typename T, typename Device, typename Act>
double value_and_grad(const Device& device, Mode mode, const DenseLayer<T>& layer,
                      const Act& activation, const SquaredError<T>& loss,
                      const LayerGradients<T>& grads) {
  switch (mode) {
    case Mode::reverse:
      return value_and_grad_reverse(device, layer, activation, loss, grads);
    case Mode::forward:
      return value_and_grad_forward(device, layer, activation, loss, grads);
    case Mode::forward_dynamic:
      return value_and_grad_forward_dynamic(layer, activation, loss, grads);
  }
  throw std::invalid_argument("unknown mode enumerator");
}

}  // namespace eigen_autodiff
