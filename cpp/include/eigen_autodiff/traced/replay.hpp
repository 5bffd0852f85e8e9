// A traced program replayed at one point, one instruction at a time, recording what each
// instruction wrote. The diagnostics (eigen_autodiff.diagnose) read this record to find the first
// operation whose derivative went wrong, and why; the arithmetic is the evaluator's own.
#pragma once

#include <array>
#include <limits>
#include <vector>

#include "eigen_autodiff/traced/interpreter.hpp"

namespace eigen_autodiff {

// A register's content as the diagnostics read it: value and d(value)/dx for the ad lane, value
// and NaN for the value lane, 0 or 1 and NaN for a condition.
template <typename T>
struct ReplayValue {
  T value = 0;
  T derivative = std::numeric_limits<T>::quiet_NaN();
};

template <typename T>
struct ReplayStep {
  Instruction instruction;
  std::array<ReplayValue<T>, 3> operands;  // what a, b, c held (unused ones: zero and NaN)
  ReplayValue<T> result;                   // what the instruction wrote
};

namespace detail {
template <typename S>
ReplayValue<value_type_t<S>> read_register(const Registers<S>& regs, Operand kind, Lane lane,
                                           std::uint16_t index) {
  using T = value_type_t<S>;
  const bool ad = kind == Operand::ad || (kind == Operand::same && lane == Lane::ad);
  if (kind == Operand::condition) {
    return {regs.cond[index] ? T(1) : T(0)};
  }
  if (ad) {
    return {regs.ad[index].value(), regs.ad[index].derivatives()(0)};
  }
  return {regs.val[index]};
}
}  // namespace detail

// The steps of the program's derivative code at x, with x seeded as the variable.
template <typename T>
std::vector<ReplayStep<T>> replay(const TracedProgram& program, T x) {
  using S = ScalarAD<T>;
  detail::RegisterStorage<S> storage(program, 1);
  storage.ad[0] = S(x, 1, 0);
  const auto& regs = storage.registers;
  std::vector<ReplayStep<T>> steps;
  for (const Instruction& in : program.derivative_code()) {
    const OpInfo& info = op_info(in.op);
    ReplayStep<T> step{in, {}, {}};
    const std::array<std::uint16_t, 3> operands = {in.a, in.b, in.c};
    for (std::size_t j = 0; j < info.arity(); ++j) {
      step.operands[j] = detail::read_register(regs, info.operands()[j], in.lane, operands[j]);
    }
    detail::run_program(std::vector<Instruction>{in}, regs, 1);
    step.result = detail::read_register(regs, info.dst(), in.lane, in.dst);
    steps.push_back(step);
  }
  return steps;
}

}  // namespace eigen_autodiff
