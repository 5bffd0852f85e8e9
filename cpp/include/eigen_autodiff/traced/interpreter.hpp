// Evaluation of a TracedProgram, for any scalar type S: float, double, or an AutoDiffScalar with
// any derivative type (one derivative in reverse mode, a dynamic vector in the article's forward
// mode, a fixed-size chunk). The derivatives come from AutoDiffScalar's own arithmetic,
// instruction by instruction.
//
// One interpreter serves two uses. Per element (TracedActivation's operator(), as any elementwise
// function object is called): the registers live on the stack of the call, so fixed-size scalars
// need no heap allocation. Over many elements at once (evaluate_many, and through it the
// activation_values and activation_value_and_derivative overloads that the layer uses): each
// instruction runs over a chunk of elements before the next, so the switch on the instruction is
// paid once per chunk rather than once per element; the registers are allocated once per call.
// Thread safety: evaluation only reads the program, so any number of threads may evaluate the
// same program at once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "eigen_autodiff/core/activations.hpp"
#include "eigen_autodiff/core/custom_derivative.hpp"
#include "eigen_autodiff/core/interrupts.hpp"
#include "eigen_autodiff/core/scalar_math.hpp"
#include "eigen_autodiff/traced/program.hpp"

namespace eigen_autodiff {

// Registers per bank kept on the stack by the per-element evaluation; programs that need more
// (rare: the tracer reuses registers) allocate them.
inline constexpr std::size_t inline_registers = 16;
// Elements evaluate_many runs each instruction over: enough to amortise the dispatch, few enough
// for the registers in use to stay in the L1 cache.
inline constexpr Index traced_chunk = 256;

namespace detail {

constexpr int dispatch_code(Op op, Lane lane) {
  return static_cast<int>(op) * 2 + static_cast<int>(lane);
}

// The operations that run on SIMD lanes (Lanes<T>, lanes.hpp): arithmetic, the functions with a
// lanes version, comparisons and selection (conditions as lane masks). A program of these alone
// is evaluated a packet of elements at a time.
constexpr bool lane_operation(Op op) {
  switch (op) {
    case Op::constant:
    case Op::neg:
    case Op::sin:
    case Op::cos:
    case Op::exp:
    case Op::tanh:
    case Op::sigmoid:
    case Op::softplus:
    case Op::add:
    case Op::sub:
    case Op::mul:
    case Op::div:
    case Op::maximum:
    case Op::minimum:
    case Op::add_const:
    case Op::mul_const:
    case Op::const_sub:
    case Op::div_const:
    case Op::const_div:
    case Op::lt:
    case Op::le:
    case Op::eq:
    case Op::ne:
    case Op::lt_const:
    case Op::le_const:
    case Op::gt_const:
    case Op::ge_const:
    case Op::eq_const:
    case Op::ne_const:
    case Op::select:
    case Op::logical_and:
    case Op::logical_or:
    case Op::logical_not:
      return true;
    default:
      return false;
  }
}

// A constant of type U: with zero derivatives on every level, a dynamic derivative vector as
// long as x's, so that arithmetic never mixes an empty derivative vector with a full one.
template <typename U, typename S>
U constant_like(const S& x, innermost_value_t<S> k) {
  if constexpr (is_autodiff<U>::value) {
    using Derivatives = typename U::DerType;
    const auto value = constant_like<value_type_t<U>>(x, k);
    if constexpr (Derivatives::SizeAtCompileTime == Eigen::Dynamic) {
      return U(value, Derivatives::Zero(x.derivatives().size()));
    } else {
      return U(value, Derivatives::Zero());
    }
  } else {
    static_cast<void>(x);
    return U(k);
  }
}

// What a condition register holds: a bool, or a mask over the lanes of an S over Lanes<T>.
template <typename P, bool = is_lanes<P>::value>
struct condition_of {
  using type = bool;
};
template <typename P>
struct condition_of<P, true> {
  using type = typename P::Mask;
};
template <typename S>
using condition_t = typename condition_of<innermost_value_t<S>>::type;

// Registers for `width` elements: register r of element i is at [r * width + i].
template <typename S>
struct Registers {
  S* ad;
  value_type_t<S>* val;
  condition_t<S>* cond;
  Index width;
};

// A built-in activation on SIMD lanes runs as a function of its own: inlined into run_program's
// switch over every operation, GCC compiled it worse (exp called out of line, the operands
// spilled), and a traced ead.sigmoid took 1.3x the built-in's time.
template <typename Act, typename U>
EIGEN_DONT_INLINE U apply_on_lanes(const U& x) {
  return Act{}(x);
}

template <typename Act, typename U>
U apply_activation(const U& x) {
  if constexpr (is_lanes<innermost_value_t<U>>::value) {
    return apply_on_lanes<Act>(x);
  } else {
    return Act{}(x);
  }
}

// Runs the code for elements 0..n-1 (n <= width) whose inputs are already in ad register 0.
template <typename S>
void run_program(const std::vector<Instruction>& code, const Registers<S>& regs, Index n) {
  using V = value_type_t<S>;
  using P = innermost_value_t<S>;
  using std::abs;
  using std::atan;
  using std::cos;
  using std::cosh;
  using std::erf;
  using std::exp;
  using std::expm1;
  using std::log;
  using std::log1p;
  using std::pow;
  using std::sin;
  using std::sinh;
  using std::sqrt;
  using std::tan;
  using std::tanh;
  // Lanes: only programs of lane_operations reach here (runs_on_lanes); the other cases are
  // compiled out.
  constexpr bool on_lanes = is_lanes<P>::value;
  S* const ad = regs.ad;
  V* const val = regs.val;
  condition_t<S>* const cond = regs.cond;
  const Index width = regs.width;
  for (const Instruction& in : code) {
    // A plain number, which every level of a nested AutoDiffScalar takes.
    const P k = static_cast<P>(in.constant);
    // Element i of a register of the lane (R) or of a condition register (C).
#define EAD_R(field) r[in.field * width + i]
#define EAD_C(field) cond[in.field * width + i]
    switch (dispatch_code(in.op, in.lane)) {
// Both lanes run the same statement for each element i: r is the lane's registers, U their type.
#define EAD_TRACED_LANE_CASE(OP, LANE, TYPE, REGISTERS, ...) \
  case dispatch_code(Op::OP, Lane::LANE): {                  \
    if constexpr (!on_lanes || lane_operation(Op::OP)) {     \
      using U = TYPE;                                        \
      U* const r = REGISTERS;                                \
      static_cast<void>(r);                                  \
      for (Index i = 0; i < n; ++i) {                        \
        __VA_ARGS__;                                         \
      }                                                      \
    }                                                        \
    break;                                                   \
  }
#define EAD_TRACED_CASE(OP, ...)                   \
  EAD_TRACED_LANE_CASE(OP, ad, S, ad, __VA_ARGS__) \
  EAD_TRACED_LANE_CASE(OP, value, V, val, __VA_ARGS__)
      EAD_TRACED_CASE(constant, EAD_R(dst) = constant_like<U>(ad[i], k))
      EAD_TRACED_CASE(neg, EAD_R(dst) = -EAD_R(a))
      EAD_TRACED_CASE(sin, EAD_R(dst) = sin(EAD_R(a)))
      EAD_TRACED_CASE(cos, EAD_R(dst) = cos(EAD_R(a)))
      EAD_TRACED_CASE(tan, EAD_R(dst) = tan(EAD_R(a)))
      EAD_TRACED_CASE(exp, EAD_R(dst) = exp(EAD_R(a)))
      EAD_TRACED_CASE(log, EAD_R(dst) = log(EAD_R(a)))
      EAD_TRACED_CASE(sqrt, EAD_R(dst) = sqrt(EAD_R(a)))
      EAD_TRACED_CASE(tanh, EAD_R(dst) = apply_activation<activations::Tanh>(EAD_R(a)))
      EAD_TRACED_CASE(sinh, EAD_R(dst) = sinh(EAD_R(a)))
      EAD_TRACED_CASE(cosh, EAD_R(dst) = cosh(EAD_R(a)))
      EAD_TRACED_CASE(abs, EAD_R(dst) = abs(EAD_R(a)))
      EAD_TRACED_CASE(sigmoid, EAD_R(dst) = apply_activation<activations::Sigmoid>(EAD_R(a)))
      EAD_TRACED_CASE(softplus, EAD_R(dst) = apply_activation<activations::Softplus>(EAD_R(a)))
      EAD_TRACED_CASE(log1p, EAD_R(dst) = log1p(EAD_R(a)))
      EAD_TRACED_CASE(expm1, EAD_R(dst) = expm1(EAD_R(a)))
      EAD_TRACED_CASE(atan, EAD_R(dst) = atan(EAD_R(a)))
      EAD_TRACED_CASE(erf, EAD_R(dst) = erf(EAD_R(a)))
      EAD_TRACED_CASE(add, EAD_R(dst) = EAD_R(a) + EAD_R(b))
      EAD_TRACED_CASE(sub, EAD_R(dst) = EAD_R(a) - EAD_R(b))
      EAD_TRACED_CASE(mul, EAD_R(dst) = EAD_R(a) * EAD_R(b))
      EAD_TRACED_CASE(div, EAD_R(dst) = EAD_R(a) / EAD_R(b))
      EAD_TRACED_CASE(maximum, {
        const auto a = innermost_value_of(EAD_R(a));
        EAD_R(dst) = where(a > innermost_value_of(EAD_R(b)) || a != a, EAD_R(a), EAD_R(b));
      })
      EAD_TRACED_CASE(minimum, {
        const auto a = innermost_value_of(EAD_R(a));
        EAD_R(dst) = where(a < innermost_value_of(EAD_R(b)) || a != a, EAD_R(a), EAD_R(b));
      })
      EAD_TRACED_CASE(add_const, EAD_R(dst) = EAD_R(a) + k)
      EAD_TRACED_CASE(mul_const, EAD_R(dst) = EAD_R(a) * k)
      EAD_TRACED_CASE(const_sub, EAD_R(dst) = k - EAD_R(a))
      EAD_TRACED_CASE(div_const, EAD_R(dst) = EAD_R(a) / k)
      EAD_TRACED_CASE(const_div, EAD_R(dst) = k / EAD_R(a))
      EAD_TRACED_CASE(pow_const, EAD_R(dst) = pow(EAD_R(a), k))
      // k ** a = exp(a log k); on plain values from pow itself (exact for 2 ** 10).
      EAD_TRACED_CASE(const_pow, {
        using W = value_type_t<U>;
        const W v = value_of(EAD_R(a));
        W p;
        if constexpr (is_autodiff<W>::value) {
          p = exp(v * log(k));
        } else {
          p = pow(k, v);
        }
        if constexpr (is_autodiff<U>::value) {
          EAD_R(dst) = with_derivative(EAD_R(a), p, p * log(k));
        } else {
          EAD_R(dst) = p;
        }
      })
      EAD_TRACED_CASE(lt, EAD_C(dst) = innermost_value_of(EAD_R(a)) < innermost_value_of(EAD_R(b)))
      EAD_TRACED_CASE(le, EAD_C(dst) = innermost_value_of(EAD_R(a)) <= innermost_value_of(EAD_R(b)))
      EAD_TRACED_CASE(eq, EAD_C(dst) = innermost_value_of(EAD_R(a)) == innermost_value_of(EAD_R(b)))
      EAD_TRACED_CASE(ne, EAD_C(dst) = innermost_value_of(EAD_R(a)) != innermost_value_of(EAD_R(b)))
      EAD_TRACED_CASE(lt_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) < k)
      EAD_TRACED_CASE(le_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) <= k)
      EAD_TRACED_CASE(gt_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) > k)
      EAD_TRACED_CASE(ge_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) >= k)
      EAD_TRACED_CASE(eq_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) == k)
      EAD_TRACED_CASE(ne_const, EAD_C(dst) = innermost_value_of(EAD_R(a)) != k)
      EAD_TRACED_CASE(select, EAD_R(dst) = where(EAD_C(c), EAD_R(a), EAD_R(b)))
      EAD_TRACED_CASE(logical_and, EAD_C(dst) = EAD_C(a) && EAD_C(b))
      EAD_TRACED_CASE(logical_or, EAD_C(dst) = EAD_C(a) || EAD_C(b))
      EAD_TRACED_CASE(logical_not, EAD_C(dst) = !EAD_C(a))
#undef EAD_TRACED_CASE
#undef EAD_TRACED_LANE_CASE
      case dispatch_code(Op::value, Lane::value):
        for (Index i = 0; i < n && !on_lanes; ++i) {
          val[in.dst * width + i] = value_of(ad[in.a * width + i]);
        }
        break;
      case dispatch_code(Op::chain, Lane::ad):
        for (Index i = 0; i < n; ++i) {
          if constexpr (on_lanes) {
            // Not a lane operation.
          } else if constexpr (is_autodiff<S>::value) {
            ad[in.dst * width + i] =
                with_derivative(ad[in.b * width + i], val[in.a * width + i], val[in.c * width + i]);
          } else {
            // Plain scalars run value_code, where the derivative operands were never computed.
            ad[in.dst * width + i] = val[in.a * width + i];
          }
        }
        break;
      default:
        // TracedProgram's constructor rejects every other combination.
        break;
    }
#undef EAD_R
#undef EAD_C
  }
}

template <typename S>
const std::vector<Instruction>& code_for(const TracedProgram& program) {
  return is_autodiff<S>::value ? program.derivative_code() : program.value_code();
}

// The registers on the stack of the call: no heap allocation for fixed-size scalars.
template <typename S>
S evaluate_with_stack_registers(const TracedProgram& program, const S& x) {
  S ad[inline_registers];
  value_type_t<S> val[inline_registers];
  condition_t<S> cond[inline_registers];
  ad[0] = x;
  run_program(code_for<S>(program), Registers<S>{ad, val, cond, 1}, 1);
  return ad[program.output()];
}

// Registers for `width` elements each, allocated once and reused for every chunk.
template <typename S>
struct RegisterStorage {
  RegisterStorage(const TracedProgram& program, Index width)
      : ad(program.registers(TracedProgram::ad_bank) * width),
        val(program.registers(TracedProgram::value_bank) * width),
        cond(new condition_t<S>[program.registers(TracedProgram::condition_bank) * width + 1]),
        registers{ad.data(), val.data(), cond.get(), width} {}
  std::vector<S> ad;
  std::vector<value_type_t<S>> val;
  std::unique_ptr<condition_t<S>[]> cond;
  Registers<S> registers;
};

// Registers for chunks of `width` elements of a fixed-size S, kept per thread and grown as needed
// (up to kept_register_bytes; larger ones are allocated per call as RegisterStorage does): the
// layer evaluates a program once per slice of a few hundred elements, and allocating registers
// for each slice cost as much as evaluating a cheap program.
inline constexpr std::size_t kept_register_bytes = std::size_t(1) << 20;

template <typename S>
class ChunkRegisters {
 public:
  ChunkRegisters(const TracedProgram& program, Index width) {
    const auto count = [&](TracedProgram::Bank bank) {
      return static_cast<std::size_t>(program.registers(bank)) * static_cast<std::size_t>(width);
    };
    const std::size_t ads = count(TracedProgram::ad_bank);
    const std::size_t vals = count(TracedProgram::value_bank);
    const std::size_t conds = count(TracedProgram::condition_bank) + 1;
    const std::size_t bytes =
        ads * sizeof(S) + vals * sizeof(value_type_t<S>) + conds * sizeof(condition_t<S>);
    Banks& banks = bytes <= kept_register_bytes ? kept() : own_;
    if (banks.ad.size() < ads) {
      banks.ad.resize(ads);
    }
    if (banks.val.size() < vals) {
      banks.val.resize(vals);
    }
    if (banks.conds < conds) {
      banks.cond.reset(new condition_t<S>[conds]);
      banks.conds = conds;
    }
    registers = {banks.ad.data(), banks.val.data(), banks.cond.get(), width};
  }
  Registers<S> registers;

 private:
  struct Banks {
    std::vector<S> ad;
    std::vector<value_type_t<S>> val;
    std::unique_ptr<condition_t<S>[]> cond;
    std::size_t conds = 0;
  };
  static Banks& kept() {
    thread_local Banks banks;
    return banks;
  }
  Banks own_;
};

}  // namespace detail

// The program's output at x: its value, and its derivatives when S is an AutoDiffScalar.
template <typename S>
S evaluate(const TracedProgram& program, const S& x) {
  if (program.registers_fit(inline_registers)) {
    return detail::evaluate_with_stack_registers(program, x);
  }
  detail::RegisterStorage<S> storage(program, 1);
  storage.ad[0] = x;
  detail::run_program(detail::code_for<S>(program), storage.registers, 1);
  return storage.ad[program.output()];
}

// y[i] = the program's output at x[i] for i < n, instruction by instruction over chunks of
// traced_chunk elements; make_input(i) gives x[i] as an S, take_output(i, y) receives y[i].
template <typename S, typename MakeInput, typename TakeOutput>
void evaluate_many(const TracedProgram& program, Index n, MakeInput&& make_input,
                   TakeOutput&& take_output) {
  const Index width = std::min(n, traced_chunk);
  if (width <= 0) {
    return;
  }
  const detail::ChunkRegisters<S> storage(program, width);
  const std::vector<Instruction>& code = detail::code_for<S>(program);
  const S* result = storage.registers.ad + program.output() * width;
  for (Index first = 0; first < n; first += width) {
    // A large program on a chunk can take a while: between chunks the computation may stop.
    cancellation_point();
    const Index count = std::min(width, n - first);
    for (Index i = 0; i < count; ++i) {
      storage.registers.ad[i] = make_input(first + i);
    }
    detail::run_program(code, storage.registers, count);
    for (Index i = 0; i < count; ++i) {
      take_output(first + i, result[i]);
    }
  }
}

// A traced program as an elementwise function object, usable wherever a built-in activation is
// (layer_values, value_and_grad_reverse, value_and_grad_forward, ...). It refers to the program,
// which must outlive it; copying it is as cheap as copying a pointer.
struct TracedActivation {
  const TracedProgram* program;

  template <typename S>
  S operator()(const S& x) const {
    return evaluate(*program, x);
  }
};

// Whether every instruction of the program is a lane operation, for plain T (float, double).
template <typename T>
bool runs_on_lanes(const TracedProgram& program) {
  if constexpr (has_lanes<T>) {
    const auto lanes = [](const std::vector<Instruction>& code) {
      return std::all_of(code.begin(), code.end(),
                         [](const Instruction& in) { return detail::lane_operation(in.op); });
    };
    return lanes(program.value_code()) && lanes(program.derivative_code());
  } else {
    return false;
  }
}

namespace detail {
// evaluate_many over packets of Lanes<T>::size elements (S is Lanes<T> or LanesAD<T>), chunks
// holding as many elements as the scalar evaluation's (so its register estimate holds);
// take_output(first, count, y) receives elements [first, first + count).
template <typename S, typename T, typename MakeInput, typename TakeOutput>
void evaluate_many_lanes(const TracedProgram& program, const T* x, Index n, MakeInput&& make_input,
                         TakeOutput&& take_output) {
  constexpr Index width = Lanes<T>::size;
  const Index packets = (n + width - 1) / width;
  const Index chunk = std::max<Index>(1, traced_chunk / width);
  const Index used = std::min(packets, chunk);
  if (used <= 0) {
    return;
  }
  const ChunkRegisters<S> storage(program, used);
  const std::vector<Instruction>& code = code_for<S>(program);
  const S* result = storage.registers.ad + program.output() * used;
  // Reading the clock per chunk of packets would cost more than a one-instruction program's work
  // on it; a long program checks every chunk (with a check every 64 chunks, an 8000-instruction
  // program took 0.11 s to stop after Ctrl-C).
  const Index chunks_per_check = std::max<Index>(1, 64 / std::max<Index>(1, code.size()));
  for (Index first = 0; first < packets; first += used) {
    if ((first / used) % chunks_per_check == 0) {
      cancellation_point();
    }
    const Index count = std::min(used, packets - first);
    for (Index i = 0; i < count; ++i) {
      const Index start = (first + i) * width;
      storage.registers.ad[i] = make_input(load_first(x + start, std::min(width, n - start)));
    }
    run_program(code, storage.registers, count);
    for (Index i = 0; i < count; ++i) {
      const Index start = (first + i) * width;
      take_output(start, std::min(width, n - start), result[i]);
    }
  }
}
}  // namespace detail

// The many-element forms of activations.hpp, found by argument-dependent lookup: the whole range
// goes through evaluate_many instead of one call per element (a packet of elements at a time
// when the program allows it).
template <typename T>
void activation_values(const TracedActivation& activation, const T* x, T* y, Index n) {
  if constexpr (has_lanes<T>) {
    if (runs_on_lanes<T>(*activation.program)) {
      detail::evaluate_many_lanes<Lanes<T>>(
          *activation.program, x, n, [](const Lanes<T>& in) { return in; },
          [y](Index first, Index count, const Lanes<T>& out) {
            detail::store_first(out, y + first, count);
          });
      return;
    }
  }
  evaluate_many<T>(
      *activation.program, n, [x](Index k) { return x[k]; },
      [y](Index k, const T& value) { y[k] = value; });
}

template <typename T>
void second_derivative(const TracedActivation& activation, const T* x, T* value, T* first,
                       T* second, Index n) {
  const auto take = [value, first, second](Index k, Index count, const auto& y) {
    detail::store_second_order(y, value, first, second, k, count);
  };
  if constexpr (has_lanes<T>) {
    if (runs_on_lanes<T>(*activation.program)) {
      detail::evaluate_many_lanes<SecondOrderAD<Lanes<T>>>(
          *activation.program, x, n,
          [](const Lanes<T>& in) { return detail::seeded_twice(in, Lanes<T>(T(1))); }, take);
      return;
    }
  }
  evaluate_many<SecondOrderAD<T>>(
      *activation.program, n, [x](Index k) { return detail::seeded_twice(x[k], T(1)); },
      [&take](Index k, const SecondOrderAD<T>& y) { take(k, 1, y); });
}

template <typename T>
void activation_value_and_derivative(const TracedActivation& activation, const T* x, T* value,
                                     T* derivative, Index n) {
  if constexpr (has_lanes<T>) {
    if (runs_on_lanes<T>(*activation.program)) {
      detail::evaluate_many_lanes<LanesAD<T>>(
          *activation.program, x, n, [](const Lanes<T>& in) { return LanesAD<T>(in, 1, 0); },
          [value, derivative](Index first, Index count, const LanesAD<T>& y) {
            detail::store_first(y.value(), value + first, count);
            detail::store_first(y.derivatives()(0), derivative + first, count);
          });
      return;
    }
  }
  evaluate_many<ScalarAD<T>>(
      *activation.program, n, [x](Index k) { return ScalarAD<T>(x[k], 1, 0); },
      [value, derivative](Index k, const ScalarAD<T>& y) {
        value[k] = y.value();
        derivative[k] = y.derivatives()(0);
      });
}

}  // namespace eigen_autodiff
