// A traced activation as data: a flat list of instructions over numbered registers, checked once
// when it is built so that evaluating it per element (traced_activation.hpp) needs no checks. It
// is what a Python callable becomes when it is traced with a symbolic value, and C++ users may
// build one directly.
//
// Registers live in three banks. The "ad" lane holds scalars of the type being evaluated (plain,
// or an AutoDiffScalar carrying derivatives); ad register 0 holds the input x when evaluation
// starts. The "value" lane holds plain values (float, double): a custom derivative's value and
// derivative functions run there, on the value of their argument, and `chain` joins them back
// into the ad lane. Condition registers hold the booleans that comparisons produce and `select`
// consumes.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eigen_autodiff {

enum class Lane : std::uint8_t { ad, value };

enum class Op : std::uint8_t {
  // dst = the constant (in the ad lane with zero derivatives)
  constant,
  // dst = f(a)
  neg,
  sin,
  cos,
  tan,
  exp,
  log,
  sqrt,
  tanh,
  sinh,
  cosh,
  abs,
  sigmoid,
  softplus,
  log1p,
  expm1,
  erf,
  // dst = a (op) b
  add,
  sub,
  mul,
  div,
  maximum,  // a > b or a is NaN ? a : b; at a tie the derivative is b's
  minimum,  // a < b or a is NaN ? a : b
  // dst = a (op) k, or k (op) a, with k the instruction's constant
  add_const,  // a + k
  mul_const,  // a * k
  const_sub,  // k - a
  div_const,  // a / k
  const_div,  // k / a
  pow_const,  // a ** k
  const_pow,  // k ** a
  // condition dst = a (op) b or a (op) k, on the values
  lt,
  le,
  eq,
  ne,
  lt_const,
  le_const,
  gt_const,
  ge_const,
  eq_const,
  ne_const,
  // dst = condition c ? a : b
  select,
  // condition dst = a and b, a or b, not a
  logical_and,
  logical_or,
  logical_not,
  // value-lane dst = the value of ad-lane a
  value,
  // ad-lane dst = the scalar with value-lane value a and derivatives ad-lane b's times value-lane c
  chain,
};

inline constexpr std::size_t op_count = static_cast<std::size_t>(Op::chain) + 1;

struct Instruction {
  Op op = Op::constant;
  Lane lane = Lane::ad;
  std::uint16_t dst = 0;
  std::uint16_t a = 0;
  std::uint16_t b = 0;
  std::uint16_t c = 0;
  double constant = 0;
};

// What an instruction's destination and operands refer to.
enum class Operand : std::uint8_t {
  none,
  same,       // a register of the instruction's lane
  ad,         // an ad-lane register
  value,      // a value-lane register
  condition,  // a condition register
};

struct OpInfo {
  std::string_view name;
  Operand dst;
  std::array<Operand, 3> operands;  // a, b, c
  bool uses_constant;
};

namespace detail {
constexpr OpInfo unary(std::string_view name) {
  return {name, Operand::same, {Operand::same, Operand::none, Operand::none}, false};
}
constexpr OpInfo binary(std::string_view name) {
  return {name, Operand::same, {Operand::same, Operand::same, Operand::none}, false};
}
constexpr OpInfo with_constant(std::string_view name) {
  return {name, Operand::same, {Operand::same, Operand::none, Operand::none}, true};
}
constexpr OpInfo compare(std::string_view name) {
  return {name, Operand::condition, {Operand::same, Operand::same, Operand::none}, false};
}
constexpr OpInfo compare_const(std::string_view name) {
  return {name, Operand::condition, {Operand::same, Operand::none, Operand::none}, true};
}
}  // namespace detail

// Indexed by Op; the names are the ones Python's tracer emits.
inline constexpr std::array<OpInfo, op_count> op_table = {{
    {"constant", Operand::same, {Operand::none, Operand::none, Operand::none}, true},
    detail::unary("neg"),
    detail::unary("sin"),
    detail::unary("cos"),
    detail::unary("tan"),
    detail::unary("exp"),
    detail::unary("log"),
    detail::unary("sqrt"),
    detail::unary("tanh"),
    detail::unary("sinh"),
    detail::unary("cosh"),
    detail::unary("abs"),
    detail::unary("sigmoid"),
    detail::unary("softplus"),
    detail::unary("log1p"),
    detail::unary("expm1"),
    detail::unary("erf"),
    detail::binary("add"),
    detail::binary("sub"),
    detail::binary("mul"),
    detail::binary("div"),
    detail::binary("maximum"),
    detail::binary("minimum"),
    detail::with_constant("add_const"),
    detail::with_constant("mul_const"),
    detail::with_constant("const_sub"),
    detail::with_constant("div_const"),
    detail::with_constant("const_div"),
    detail::with_constant("pow_const"),
    detail::with_constant("const_pow"),
    detail::compare("lt"),
    detail::compare("le"),
    detail::compare("eq"),
    detail::compare("ne"),
    detail::compare_const("lt_const"),
    detail::compare_const("le_const"),
    detail::compare_const("gt_const"),
    detail::compare_const("ge_const"),
    detail::compare_const("eq_const"),
    detail::compare_const("ne_const"),
    {"select", Operand::same, {Operand::same, Operand::same, Operand::condition}, false},
    {"and", Operand::condition, {Operand::condition, Operand::condition, Operand::none}, false},
    {"or", Operand::condition, {Operand::condition, Operand::condition, Operand::none}, false},
    {"not", Operand::condition, {Operand::condition, Operand::none, Operand::none}, false},
    {"value", Operand::value, {Operand::ad, Operand::none, Operand::none}, false},
    {"chain", Operand::ad, {Operand::value, Operand::ad, Operand::value}, false},
}};

inline const OpInfo& op_info(Op op) { return op_table[static_cast<std::size_t>(op)]; }

inline Op op_from_name(std::string_view name) {
  for (std::size_t k = 0; k < op_count; ++k) {
    if (op_table[k].name == name) {
      return static_cast<Op>(k);
    }
  }
  std::string names;
  for (const OpInfo& info : op_table) {
    names += (names.empty() ? "" : ", ") + std::string(info.name);
  }
  throw std::invalid_argument("unknown traced operation '" + std::string(name) +
                              "'; known operations: " + names);
}

inline std::string_view lane_name(Lane lane) { return lane == Lane::ad ? "ad" : "value"; }

inline Lane lane_from_name(std::string_view name) {
  if (name == "ad") {
    return Lane::ad;
  }
  if (name == "value") {
    return Lane::value;
  }
  throw std::invalid_argument("unknown lane '" + std::string(name) + "'; expected 'ad' or 'value'");
}

class TracedProgram {
 public:
  enum Bank : std::size_t { ad_bank, value_bank, condition_bank, bank_count };

  // Checks the program (every operand a register of the right bank written by an earlier
  // instruction, or x in ad register 0) and throws std::invalid_argument naming the first bad
  // instruction. The result is the ad-lane register `output` after the last instruction.
  TracedProgram(std::vector<Instruction> code, std::uint16_t output, std::string name = {})
      : code_(std::move(code)), output_(output), name_(std::move(name)) {
    validate();
    derivative_code_ = live_code(false);
    value_code_ = live_code(true);
  }

  const std::vector<Instruction>& code() const { return code_; }
  std::uint16_t output() const { return output_; }
  const std::string& name() const { return name_; }
  // Registers of a bank the program uses (one more than the largest index).
  std::size_t registers(Bank bank) const { return registers_[bank]; }
  // Whether no bank needs more than n registers.
  bool registers_fit(std::size_t n) const { return max_registers_ <= n; }

  // The instructions that evaluation runs: on AD scalars, everything the output depends on; on
  // plain scalars, only what its value depends on (custom derivative functions are skipped).
  const std::vector<Instruction>& derivative_code() const { return derivative_code_; }
  const std::vector<Instruction>& value_code() const { return value_code_; }

  // One line per instruction, e.g. "a1 = mul_const a0, 2", then "return a1".
  std::string disassemble() const {
    std::ostringstream out;
    out << std::setprecision(std::numeric_limits<double>::max_digits10);
    for (const Instruction& in : code_) {
      const OpInfo& info = op_info(in.op);
      out << register_name(info.dst, in.lane, in.dst) << " = " << info.name;
      const char* separator = " ";
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      for (std::size_t k = 0; k < 3; ++k) {
        if (info.operands[k] != Operand::none) {
          out << separator << register_name(info.operands[k], in.lane, regs[k]);
          separator = ", ";
        }
      }
      if (info.uses_constant) {
        out << separator << in.constant;
      }
      out << "\n";
    }
    out << "return " << register_name(Operand::ad, Lane::ad, output_);
    return out.str();
  }

 private:
  static Bank bank_of(Operand kind, Lane lane) {
    switch (kind) {
      case Operand::same:
        return lane == Lane::ad ? ad_bank : value_bank;
      case Operand::ad:
        return ad_bank;
      case Operand::value:
        return value_bank;
      case Operand::condition:
      case Operand::none:
        break;
    }
    return condition_bank;
  }

  static std::string register_name(Operand kind, Lane lane, std::uint16_t index) {
    static constexpr std::array<const char*, bank_count> prefix = {"a", "v", "c"};
    return prefix[bank_of(kind, lane)] + std::to_string(index);
  }

  void validate() {
    std::array<std::vector<bool>, bank_count> written;
    written[ad_bank].assign(1, true);  // x
    const auto fail = [&](std::size_t k, const std::string& why) {
      throw std::invalid_argument("traced program" + (name_.empty() ? "" : " '" + name_ + "'") +
                                  ": instruction " + std::to_string(k) + " (" +
                                  std::string(op_info(code_[k].op).name) + "): " + why);
    };
    for (std::size_t k = 0; k < code_.size(); ++k) {
      const Instruction& in = code_[k];
      if (static_cast<std::size_t>(in.op) >= op_count) {
        throw std::invalid_argument("traced program: instruction " + std::to_string(k) +
                                    " has an unknown operation code");
      }
      if (in.lane != Lane::ad && in.lane != Lane::value) {
        fail(k, "unknown lane");
      }
      const OpInfo& info = op_info(in.op);
      if ((info.dst == Operand::ad && in.lane != Lane::ad) ||
          (info.dst == Operand::value && in.lane != Lane::value)) {
        fail(k,
             "must be in the " + std::string(info.dst == Operand::ad ? "ad" : "value") + " lane");
      }
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      for (std::size_t j = 0; j < 3; ++j) {
        if (info.operands[j] == Operand::none) {
          continue;
        }
        const auto& bank = written[bank_of(info.operands[j], in.lane)];
        if (regs[j] >= bank.size() || !bank[regs[j]]) {
          fail(k, "operand " + std::string(1, static_cast<char>('a' + j)) + " reads " +
                      register_name(info.operands[j], in.lane, regs[j]) +
                      ", which no earlier instruction wrote");
        }
      }
      auto& target = written[bank_of(info.dst, in.lane)];
      if (target.size() <= in.dst) {
        target.resize(in.dst + std::size_t{1}, false);
      }
      target[in.dst] = true;
    }
    if (output_ >= written[ad_bank].size() || !written[ad_bank][output_]) {
      throw std::invalid_argument("traced program: the output a" + std::to_string(output_) +
                                  " is never written");
    }
    for (std::size_t bank = 0; bank < bank_count; ++bank) {
      registers_[bank] = written[bank].size();
      max_registers_ = std::max(max_registers_, registers_[bank]);
    }
  }

  // Backward liveness: keeps the instructions whose result is still needed, reading registers
  // as they are reused. With values_only, chain needs only its value operand.
  std::vector<Instruction> live_code(bool values_only) const {
    std::array<std::vector<bool>, bank_count> live;
    for (std::size_t bank = 0; bank < bank_count; ++bank) {
      live[bank].assign(registers_[bank], false);
    }
    live[ad_bank][output_] = true;
    std::vector<Instruction> kept;
    for (auto it = code_.rbegin(); it != code_.rend(); ++it) {
      const Instruction& in = *it;
      const OpInfo& info = op_info(in.op);
      auto&& needed = live[bank_of(info.dst, in.lane)][in.dst];
      if (!needed) {
        continue;
      }
      needed = false;
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      const std::size_t operands = (values_only && in.op == Op::chain) ? 1 : 3;
      for (std::size_t j = 0; j < operands; ++j) {
        if (info.operands[j] != Operand::none) {
          live[bank_of(info.operands[j], in.lane)][regs[j]] = true;
        }
      }
      kept.push_back(in);
    }
    std::reverse(kept.begin(), kept.end());
    return kept;
  }

  std::vector<Instruction> code_;
  std::uint16_t output_;
  std::string name_;
  std::array<std::size_t, bank_count> registers_{};
  std::size_t max_registers_ = 0;
  std::vector<Instruction> derivative_code_;
  std::vector<Instruction> value_code_;
};

}  // namespace eigen_autodiff
