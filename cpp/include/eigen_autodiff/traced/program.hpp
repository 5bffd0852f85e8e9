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
#include <functional>
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

// What an instruction's destination and operands refer to.
enum class Operand : std::uint8_t {
  none,
  same,       // a register of the instruction's lane
  ad,         // an ad-lane register
  value,      // a value-lane register
  condition,  // a condition register
};

// The kinds of its result and operands, and whether it reads the instruction's constant k.
struct Signature {
  Operand dst;
  std::array<Operand, 3> operands;  // a, b, c
  bool uses_constant;
};

namespace signatures {
inline constexpr Operand none = Operand::none;
inline constexpr Operand same = Operand::same;
inline constexpr Operand cond = Operand::condition;
inline constexpr Signature constant{same, {none, none, none}, true};
inline constexpr Signature unary{same, {same, none, none}, false};
inline constexpr Signature binary{same, {same, same, none}, false};
inline constexpr Signature with_constant{same, {same, none, none}, true};
inline constexpr Signature compare{cond, {same, same, none}, false};
inline constexpr Signature compare_const{cond, {same, none, none}, true};
inline constexpr Signature select{same, {same, same, cond}, false};
inline constexpr Signature logical{cond, {cond, cond, none}, false};
inline constexpr Signature logical_not{cond, {cond, none, none}, false};
inline constexpr Signature value{Operand::value, {Operand::ad, none, none}, false};
inline constexpr Signature chain{Operand::ad, {Operand::value, Operand::ad, Operand::value}, false};
}  // namespace signatures

// Every operation, once: X(name, signature, the NumPy ufunc that records it or "", doc; a, b, c
// are the operands, x the argument of a function). The
// Python tracer, the diagnostics and the command line derive their tables from this one (it is
// exported as eigen_autodiff._core.OPERATIONS); run_program (interpreter.hpp) evaluates each.
#define EIGEN_AUTODIFF_TRACED_OPERATIONS(X)                                                     \
  X(constant, constant, "", "k, with zero derivatives")                                         \
  X(neg, unary, "negative", "-a")                                                               \
  X(sin, unary, "sin", "sine")                                                                  \
  X(cos, unary, "cos", "cosine")                                                                \
  X(tan, unary, "tan", "tangent; its derivative is 1 / cos(x)**2")                              \
  X(exp, unary, "exp", "exponential")                                                           \
  X(log, unary, "log", "natural logarithm; log'(0) = +inf")                                     \
  X(sqrt, unary, "sqrt", "square root; sqrt'(0) = +inf, the limit from the right")              \
  X(tanh, unary, "tanh", "hyperbolic tangent")                                                  \
  X(sinh, unary, "sinh", "hyperbolic sine")                                                     \
  X(cosh, unary, "cosh", "hyperbolic cosine")                                                   \
  X(abs, unary, "absolute", "absolute value; abs'(0) = 1 (Eigen's convention)")                 \
  X(sigmoid, unary, "", "1 / (1 + exp(-x)) without overflow, the built-in activation")          \
  X(softplus, unary, "", "log(1 + exp(x)) without overflow, the built-in activation")           \
  X(log1p, unary, "log1p", "log(1 + x), accurate for small x")                                  \
  X(expm1, unary, "expm1", "exp(x) - 1, accurate for small x")                                  \
  X(atan, unary, "arctan", "arc tangent; its derivative is 1 / (1 + x**2)")                     \
  X(erf, unary, "", "the error function; its derivative is 2 / sqrt(pi) * exp(-x**2)")          \
  X(add, binary, "add", "a + b")                                                                \
  X(sub, binary, "subtract", "a - b")                                                           \
  X(mul, binary, "multiply", "a * b")                                                           \
  X(div, binary, "divide", "a / b")                                                             \
  X(maximum, binary, "maximum", "a > b or a is NaN ? a : b; at a tie the derivative is b's")    \
  X(minimum, binary, "minimum", "a < b or a is NaN ? a : b; at a tie the derivative is b's")    \
  X(add_const, with_constant, "", "a + k")                                                      \
  X(mul_const, with_constant, "", "a * k")                                                      \
  X(const_sub, with_constant, "", "k - a")                                                      \
  X(div_const, with_constant, "", "a / k")                                                      \
  X(const_div, with_constant, "", "k / a")                                                      \
  X(pow_const, with_constant, "", "a ** k; the power rule k a**(k-1), infinite at 0 for k < 1") \
  X(const_pow, with_constant, "", "k ** a")                                                     \
  X(lt, compare, "less", "a < b")                                                               \
  X(le, compare, "less_equal", "a <= b")                                                        \
  X(eq, compare, "equal", "a == b")                                                             \
  X(ne, compare, "not_equal", "a != b")                                                         \
  X(lt_const, compare_const, "", "a < k")                                                       \
  X(le_const, compare_const, "", "a <= k")                                                      \
  X(gt_const, compare_const, "", "a > k")                                                       \
  X(ge_const, compare_const, "", "a >= k")                                                      \
  X(eq_const, compare_const, "", "a == k")                                                      \
  X(ne_const, compare_const, "", "a != k")                                                      \
  X(select, select, "", "c ? a : b; only the chosen branch's derivative is kept")               \
  X(logical_and, logical, "logical_and", "a and b, on conditions")                              \
  X(logical_or, logical, "logical_or", "a or b, on conditions")                                 \
  X(logical_not, logical_not, "logical_not", "not a, on a condition")                           \
  X(value, value, "", "the plain value of an ad-lane a, for a custom derivative's functions")   \
  X(chain, chain, "", "value a with derivatives b's times c: a custom derivative's chain rule")

enum class Op : std::uint8_t {
#define EIGEN_AUTODIFF_OP_ENUMERATOR(name, signature, numpy, doc) name,
  EIGEN_AUTODIFF_TRACED_OPERATIONS(EIGEN_AUTODIFF_OP_ENUMERATOR)
#undef EIGEN_AUTODIFF_OP_ENUMERATOR
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

struct OpInfo {
  std::string_view name;
  Signature signature;
  std::string_view numpy;  // the NumPy ufunc that records this operation, or empty
  std::string_view doc;

  Operand dst() const { return signature.dst; }
  const std::array<Operand, 3>& operands() const { return signature.operands; }
  bool uses_constant() const { return signature.uses_constant; }
  std::size_t arity() const {
    return static_cast<std::size_t>(std::count_if(
        operands().begin(), operands().end(), [](Operand kind) { return kind != Operand::none; }));
  }
};

// Indexed by Op.
inline constexpr std::array<OpInfo, op_count> op_table = {{
#define EIGEN_AUTODIFF_OP_INFO(name, signature, numpy, doc) \
  {#name, signatures::signature, numpy, doc},
    EIGEN_AUTODIFF_TRACED_OPERATIONS(EIGEN_AUTODIFF_OP_INFO)
#undef EIGEN_AUTODIFF_OP_INFO
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

  // One operation of a single-assignment graph: node k (from 1; node 0 is x) applies op to the
  // results of earlier nodes. What Python's tracer records.
  struct Node {
    Op op;
    Lane lane;
    std::array<std::size_t, 3> operands;  // node indices, for the op's operands a, b, c
    double constant;
  };

  // The most values a program may hold at once in one bank: registers are numbered by uint16,
  // and the last number is kept free.
  static constexpr std::size_t max_live_values = (std::size_t{1} << 16) - 1;

  // The program computing node `output` of the graph. Registers are allocated here, each reused
  // as soon as the value it holds has had its last use, so that few are needed (on the stack
  // when one element is evaluated, in the L1 cache for a chunk); the constructor then drops the
  // nodes the output does not depend on.
  static TracedProgram from_graph(const std::vector<Node>& nodes, std::size_t output,
                                  std::string name = {}) {
    const std::size_t count = nodes.size() + 1;
    const auto fail = [&](std::size_t k, const std::string& why) {
      throw std::invalid_argument("traced graph" + (name.empty() ? "" : " '" + name + "'") +
                                  ": node " + std::to_string(k) + " (" +
                                  std::string(op_info(nodes[k - 1].op).name) + "): " + why);
    };
    std::vector<Bank> bank(count, ad_bank);
    std::vector<std::size_t> last_use(count, 0);
    for (std::size_t k = 1; k < count; ++k) {
      const Node& node = nodes[k - 1];
      if (static_cast<std::size_t>(node.op) >= op_count ||
          (node.lane != Lane::ad && node.lane != Lane::value)) {
        throw std::invalid_argument("traced graph: node " + std::to_string(k) +
                                    " has an unknown operation or lane");
      }
      const OpInfo& info = op_info(node.op);
      bank[k] = bank_of(info.dst(), node.lane);
      for (std::size_t j = 0; j < info.arity(); ++j) {
        const std::size_t operand = node.operands[j];
        if (operand >= k) {
          fail(k, "operand " + std::to_string(operand) + " is not an earlier node");
        }
        if (bank[operand] != bank_of(info.operands()[j], node.lane)) {
          fail(k, "operand " + std::to_string(operand) + " is in the wrong register bank");
        }
        last_use[operand] = k;
      }
    }
    if (output >= count || bank[output] != ad_bank) {
      throw std::invalid_argument("traced graph: the output " + std::to_string(output) +
                                  " is not a node of the ad lane");
    }
    last_use[output] = count;

    std::array<std::vector<std::size_t>, bank_count> free;  // min-heaps
    std::array<std::size_t, bank_count> used{1, 0, 0};      // ad register 0 holds x
    std::vector<std::size_t> reg(count, 0);
    const auto release = [&](std::size_t node) {
      free[bank[node]].push_back(reg[node]);
      std::push_heap(free[bank[node]].begin(), free[bank[node]].end(), std::greater<>());
    };
    if (last_use[0] == 0) {
      release(0);
    }
    for (std::size_t k = 1; k < count; ++k) {
      const Node& node = nodes[k - 1];
      // The destination is chosen before the operands are released, so it never aliases one.
      auto& available = free[bank[k]];
      if (available.empty()) {
        reg[k] = used[bank[k]]++;
      } else {
        std::pop_heap(available.begin(), available.end(), std::greater<>());
        reg[k] = available.back();
        available.pop_back();
      }
      for (std::size_t j = 0; j < op_info(node.op).arity(); ++j) {
        const std::size_t operand = node.operands[j];
        // Once per operand, however often this node reads it.
        if (last_use[operand] == k && std::find(node.operands.begin(), node.operands.begin() + j,
                                                operand) == node.operands.begin() + j) {
          release(operand);
        }
      }
      if (last_use[k] == 0) {
        release(k);
      }
    }
    const std::size_t live = *std::max_element(used.begin(), used.end());
    if (live > max_live_values) {
      throw std::invalid_argument("traced program" + (name.empty() ? "" : " '" + name + "'") +
                                  ": activation too large: " + std::to_string(live) +
                                  " live values, at most " + std::to_string(max_live_values) +
                                  "; split it into several activations");
    }

    std::vector<Instruction> code(nodes.size());
    for (std::size_t k = 1; k < count; ++k) {
      const Node& node = nodes[k - 1];
      Instruction& in = code[k - 1];
      in.op = node.op;
      in.lane = node.lane;
      in.dst = static_cast<std::uint16_t>(reg[k]);
      const std::array<std::uint16_t*, 3> fields = {&in.a, &in.b, &in.c};
      for (std::size_t j = 0; j < op_info(node.op).arity(); ++j) {
        *fields[j] = static_cast<std::uint16_t>(reg[node.operands[j]]);
      }
      in.constant = node.constant;
    }
    return TracedProgram(std::move(code), static_cast<std::uint16_t>(reg[output]), std::move(name));
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
      out << register_name(info.dst(), in.lane, in.dst) << " = " << info.name;
      const char* separator = " ";
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      for (std::size_t k = 0; k < 3; ++k) {
        if (info.operands()[k] != Operand::none) {
          out << separator << register_name(info.operands()[k], in.lane, regs[k]);
          separator = ", ";
        }
      }
      if (info.uses_constant()) {
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
      if ((info.dst() == Operand::ad && in.lane != Lane::ad) ||
          (info.dst() == Operand::value && in.lane != Lane::value)) {
        fail(k,
             "must be in the " + std::string(info.dst() == Operand::ad ? "ad" : "value") + " lane");
      }
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      for (std::size_t j = 0; j < 3; ++j) {
        if (info.operands()[j] == Operand::none) {
          continue;
        }
        const auto& bank = written[bank_of(info.operands()[j], in.lane)];
        if (regs[j] >= bank.size() || !bank[regs[j]]) {
          fail(k, "operand " + std::string(1, static_cast<char>('a' + j)) + " reads " +
                      register_name(info.operands()[j], in.lane, regs[j]) +
                      ", which no earlier instruction wrote");
        }
      }
      auto& target = written[bank_of(info.dst(), in.lane)];
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
      auto&& needed = live[bank_of(info.dst(), in.lane)][in.dst];
      if (!needed) {
        continue;
      }
      needed = false;
      const std::array<std::uint16_t, 3> regs = {in.a, in.b, in.c};
      const std::size_t operands = (values_only && in.op == Op::chain) ? 1 : 3;
      for (std::size_t j = 0; j < operands; ++j) {
        if (info.operands()[j] != Operand::none) {
          live[bank_of(info.operands()[j], in.lane)][regs[j]] = true;
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
