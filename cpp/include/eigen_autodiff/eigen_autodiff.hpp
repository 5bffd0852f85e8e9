// The whole library. Headers are grouped by role:
//   core/     Eigen's configuration, types, argument checks, the thread-pool split, products,
//             the built-in activations and custom derivatives;
//   article/  the article's API on Eigen::Tensor: seeding, the layer, the dynamic forward mode;
//   fast/     reverse mode, chunked forward mode, the Jacobian, second derivatives, memory
//             estimates, the mode switch;
//   traced/   activations as programs: the program, its interpreter, its step-by-step replay.
// Include this header, or the ones you need, before any Eigen header.
#pragma once

#include "eigen_autodiff/core/eigen_setup.hpp"

#include "eigen_autodiff/article/forward_dynamic.hpp"
#include "eigen_autodiff/article/layer.hpp"
#include "eigen_autodiff/article/seeding.hpp"
#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/checks.hpp"
#include "eigen_autodiff/core/custom_derivative.hpp"
#include "eigen_autodiff/core/parallel.hpp"
#include "eigen_autodiff/core/products.hpp"
#include "eigen_autodiff/core/scalar_math.hpp"
#include "eigen_autodiff/core/types.hpp"
#include "eigen_autodiff/fast/forward.hpp"
#include "eigen_autodiff/fast/jacobian.hpp"
#include "eigen_autodiff/fast/memory_estimates.hpp"
#include "eigen_autodiff/fast/reverse.hpp"
#include "eigen_autodiff/fast/second_order.hpp"
#include "eigen_autodiff/fast/value_and_grad.hpp"
#include "eigen_autodiff/traced/interpreter.hpp"
#include "eigen_autodiff/traced/program.hpp"
#include "eigen_autodiff/traced/replay.hpp"
