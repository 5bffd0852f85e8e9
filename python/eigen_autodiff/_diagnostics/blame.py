"""Which operation of an activation's trace made its derivative wrong at a point, and why.

The trace is replayed in C++ one instruction at a time (TracedProgram.replay); this module reads
the record: the first instruction whose value overflowed, whose derivative became NaN or
infinite, or underflowed to zero, or that sits on a kink, is the one to blame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._native import _core
from .._tracing import primitives as p
from .._tracing.activation_spec import activation_spec
from .._tracing.symbolic import OPERATIONS

# The built-in activations written with the traceable primitives, so that their derivative can be
# replayed instruction by instruction. Same formulas as the C++ built-ins.
BUILTIN_FORMULAS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda x: x,
    "sin": p.sin,
    "cos": p.cos,
    "tanh": p.tanh,
    "sigmoid": p.sigmoid,
    "relu": lambda x: p.where(x <= 0, 0.0 * x, x),
    "softplus": p.softplus,
    "exp": p.exp,
    "square": lambda x: x * x,
    "inv_exp": lambda x: 1 / p.exp(x),
}

# What the library does where a function has no derivative (README "Conventions").
CONVENTIONS = {
    "abs": "abs'(0) = 1 (Eigen's convention)",
    "maximum": "at a tie the derivative is the second argument's",
    "minimum": "at a tie the derivative is the second argument's",
    "select": "the branch the comparison picks at the point, so relu'(0) = 0",
    "sqrt": "sqrt'(0) = +inf, the limit from the right",
    "log": "log'(0) = +inf",
    "pow_const": "the power rule k x**(k-1), infinite at 0 for k < 1",
}

# The comparisons, from the C++ table: operations on values whose result is a condition.
COMPARISONS = frozenset(
    op.name for op in OPERATIONS.values() if op.result == "condition" and op.operands[0] == "same"
)
OVERFLOW_AT = {"float32": 88.72, "float64": 709.78}  # exp overflows beyond these


@dataclass(frozen=True)
class Blame:
    """The operation to blame for a wrong derivative, why, and a fix where one is known.

    ``convention`` is true where the derivative is not wrong but undefined, and the library
    applied its documented convention (a kink such as relu'(0) = 0 or abs'(0) = 1, or an
    infinite slope such as sqrt'(0) = +inf).
    """

    op: str
    reason: str
    suggestion: str = ""
    convention: bool = False


def _expression(op: str, operands: list[float], constant: float) -> str:
    """The operation at the point, e.g. ``1 / 5.2e+173`` or ``exp(100)``.

    Operators are shown by the C++ table's own formula (``a + b``, ``k / a``), functions by name.
    """
    shown = dict(zip("ab", [f"{v:.6g}" for v in operands]))
    shown["k"] = f"{constant:.6g}"
    formula = OPERATIONS[op].doc.split(";")[0]
    if re.fullmatch(r"[-abk +*/<>=!]+", formula):
        return re.sub(r"\b[abk]\b", lambda name: shown.get(name.group(), "?"), formula)
    return f"{op}({', '.join(shown[n] for n in 'ab'[: len(operands)])})"


def _suggestion(op: str, producers: dict[int, str], operand: int, dtype: str) -> str:
    source = producers.get(operand, "")
    if op == "const_div" and source == "exp":
        return (
            "1/exp(x) overflows exp first: write ead.exp(-x), or supply the derivative: "
            "ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))"
        )
    if op == "exp":
        return (
            f"exp overflows in {dtype} for x > {OVERFLOW_AT[dtype]}: rewrite so that exp's "
            "argument stays <= 0 (e.g. exp(-|x|)), or supply the derivative with "
            "ead.custom_derivative"
        )
    if op == "log" and source == "add_const":
        return "log(1 + exp(x)) overflows: use ead.softplus(x)"
    if op in ("div", "const_div"):
        return "guard the denominator, e.g. ead.where(d != 0, n / d, 0.0)"
    if op in CONVENTIONS:
        return (
            "if another value suits your use, choose it with ead.custom_derivative(f, df), "
            "e.g. df = lambda x: ead.where(x > 0, <derivative>, <your choice at the kink>)"
        )
    return ""


def _is_kink(op: str, operands: list[float], constant: float) -> bool:
    if op == "abs":
        return operands[0] == 0
    if op in ("maximum", "minimum"):
        return operands[0] == operands[1]
    if op in COMPARISONS:
        return operands[0] == (constant if op.endswith("_const") else operands[1])
    return False


def blame(activation: Any, x: float, dtype: np.dtype[Any]) -> Blame:
    """The first operation of the activation's trace to blame for its derivative at x."""
    formula = BUILTIN_FORMULAS.get(activation) if isinstance(activation, str) else activation
    if formula is None:
        return Blame(str(activation), "not a known activation")
    program = activation_spec(formula)
    assert isinstance(program, _core.TracedProgram)
    name = dtype.name
    tiny = float(np.finfo(dtype).tiny)
    producers: dict[int, str] = {}  # ad register -> the op that last wrote it
    kink: Blame | None = None
    for (op, lane, dst, a, _b, _c, constant), operands, (value, slope) in program.replay(x, name):
        # The operands that carry the derivative: select's branches (not its condition), chain's
        # argument (not the value-lane results of a custom derivative's functions).
        read = operands[1:2] if op == "chain" else operands[:2]
        values = [v for v, _ in read]
        slopes = [d for _, d in read]
        written = OPERATIONS[op].result if OPERATIONS[op].result != "same" else lane
        if op in COMPARISONS:
            if kink is None and _is_kink(op, values, constant):
                kink = Blame(
                    "select",
                    f"a kink: the comparison {_expression(op, values, constant)} is at its "
                    f"boundary, where the function is not differentiable; the library takes "
                    f"{CONVENTIONS['select']}",
                    _suggestion("select", producers, a, name),
                    convention=True,
                )
            continue
        if written != "ad":
            continue
        expression = _expression(op, values, constant)
        inputs_finite = all(math.isfinite(v) for v in values)
        slopes_finite = all(math.isfinite(d) for d in slopes)
        if math.isinf(value) and inputs_finite:
            return Blame(
                op,
                f"overflow of an intermediate: {expression} = {value} in {name}; its derivative "
                "is infinite, and what follows turns it into NaN or nonsense (0 * inf)",
                _suggestion(op, producers, a, name),
            )
        if not math.isfinite(slope) and math.isfinite(value) and slopes_finite:
            convention = False
            if op in ("div", "const_div") and values[-1] == 0:
                reason = f"division by zero in the derivative of {expression}"
            elif op in ("sqrt", "log", "pow_const") and values[0] == 0:
                reason = (
                    f"the derivative is undefined at {values[0]:g}: {op}'s is infinite there; "
                    f"the library applies {CONVENTIONS.get(op, 'the formula as it stands')}"
                )
                convention = True
            elif op in ("div", "const_div") and any(math.isinf(v * v) for v in values[-1:]):
                reason = (
                    f"the derivative rule of {expression} squares the denominator, "
                    f"{values[-1]:.6g}**2 = inf in {name}, and divides inf by inf"
                )
            else:
                reason = f"0 * inf inside the derivative rule of {expression}"
            return Blame(op, reason, _suggestion(op, producers, a, name), convention)
        if not math.isfinite(slope) and math.isfinite(value):
            return Blame(
                op,
                f"0 * inf: {expression} multiplies an infinite derivative by zero",
                _suggestion(op, producers, a, name),
            )
        if abs(slope) < tiny and any(abs(d) > 0 for d in slopes if math.isfinite(d)) and value:
            if op in ("div", "const_div") and math.isinf(values[-1] * values[-1]):
                detail = (
                    f"its derivative rule squares the denominator, {values[-1]:.6g}**2 = inf in "
                    f"{name}, so the derivative underflows to {slope:g} although the true one "
                    "is representable"
                )
            else:
                detail = f"its derivative underflows to {slope:g} in {name}"
            return Blame(op, f"silent underflow in {expression}: {detail}",
                         _suggestion(op, producers, a, name))  # fmt: skip
        if kink is None and _is_kink(op, values, constant):
            kink = Blame(
                op,
                f"a kink: {expression} is not differentiable here; the library takes "
                f"{CONVENTIONS.get(op, 'one side')}",
                _suggestion(op, producers, a, name),
                convention=True,
            )
        producers[dst] = op
    if kink is not None:
        return kink
    return Blame(
        program.name or "the activation",
        "the derivative disagrees with finite differences though no single operation "
        "overflowed, divided by zero or sat on a kink: check a supplied derivative "
        "(ead.custom_derivative) or the conditioning of the formula",
    )
