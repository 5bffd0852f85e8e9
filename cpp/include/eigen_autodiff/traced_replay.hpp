// A traced program replayed at one point, one instruction at a time, recording what each
// instruction wrote. The diagnostics (eigen_autodiff.diagnose) read this record to find the first
// operation whose derivative went wrong, and why; the arithmetic is the evaluator's own.
#pragma once

#include <vector>

#include "eigen_autodiff/traced_activation.hpp"

namespace eigen_autodiff {

template <typename T>
struct ReplayStep {
  Instruction instruction;
  T value;       // what the instruction wrote (a condition as 0 or 1)
  T derivative;  // d(value)/dx for the ad lane; NaN for the value lane and conditions
};

// The steps of the program's derivative code at x, with x seeded as the variable.
template <typename T>
std::vector<ReplayStep<T>> replay(const TracedProgram& program, T x) {
  using S = ScalarAD<T>;
  detail::RegisterStorage<S> storage(program, 1);
  storage.ad[0] = S(x, 1, 0);
  const auto& regs = storage.registers;
  std::vector<ReplayStep<T>> steps;
  for (const Instruction& in : program.derivative_code()) {
    detail::run_program(std::vector<Instruction>{in}, regs, 1);
    ReplayStep<T> step{in, T(0), std::numeric_limits<T>::quiet_NaN()};
    const OpInfo& info = op_info(in.op);
    if (info.dst == Operand::condition) {
      step.value = regs.cond[in.dst] ? T(1) : T(0);
    } else if (in.lane == Lane::ad || info.dst == Operand::ad) {
      step.value = regs.ad[in.dst].value();
      step.derivative = regs.ad[in.dst].derivatives()(0);
    } else {
      step.value = regs.val[in.dst];
    }
    steps.push_back(step);
  }
  return steps;
}

}  // namespace eigen_autodiff
