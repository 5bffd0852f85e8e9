// The one place where Eigen is configured for this project. Every file includes this header
// before any Eigen header, so that every translation unit sees the same configuration (one
// definition rule) and no Eigen assertion can abort the Python interpreter.
#pragma once

#if defined(EIGEN_WORLD_VERSION) || defined(EIGEN_CORE_H)
#error \
    "Include eigen_autodiff/core/eigen_setup.hpp (or any eigen_autodiff header) before any Eigen header."
#endif
#if defined(eigen_assert)
#error \
    "eigen_assert is already defined; eigen_autodiff needs its own definition (see core/eigen_setup.hpp)."
#endif

#include <stdexcept>
#include <string>

namespace eigen_autodiff {

// Thrown where Eigen would otherwise abort: a violated precondition of an Eigen call, such as a
// product of mismatched sizes or AutoDiffScalar derivative vectors of different lengths. It is an
// invalid argument (Python sees ValueError), and is active in every build type because a
// silently wrong gradient is worse than a slower one.
class eigen_assertion_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
[[noreturn]] inline void eigen_assertion_failed(const char* condition, const char* file, int line) {
  throw eigen_assertion_error(std::string("Eigen assertion failed: ") + condition + " (" + file +
                              ":" + std::to_string(line) + ")");
}
}  // namespace detail
}  // namespace eigen_autodiff

// An expression, not a statement: Eigen uses eigen_assert inside comma expressions.
#define eigen_assert(x)       \
  ((x) ? static_cast<void>(0) \
       : ::eigen_autodiff::detail::eigen_assertion_failed(#x, __FILE__, __LINE__))

// Tensor contractions run on Eigen::ThreadPoolDevice; the Tensor module must know before it is
// included, in every translation unit alike.
#ifndef EIGEN_USE_THREADS
#define EIGEN_USE_THREADS
#endif

#include <Eigen/Core>
#include <unsupported/Eigen/AutoDiff>
#include <unsupported/Eigen/CXX11/Tensor>

#if !EIGEN_VERSION_AT_LEAST(3, 4, 0) || EIGEN_VERSION_AT_LEAST(3, 5, 0)
#error \
    "eigen_autodiff needs Eigen 3.4.x (AutoDiffScalar's empty-derivative handling differs elsewhere)."
#endif
