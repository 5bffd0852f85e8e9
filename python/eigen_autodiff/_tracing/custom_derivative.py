"""Custom derivatives (like ``tf.custom_gradient``): value from one function, slope from another.

For formulas whose automatic derivative is numerically wrong, such as ``1/exp(x)`` at 100.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, overload

from .errors import TracingError
from .symbolic import AD, VALUE, TracedCondition, TracedValue, operand_node

Function = Callable[[Any], Any]


class CustomDerivative:
    """An activation whose value is ``f(x)`` and whose derivative is ``df(x)``.

    Made by :func:`custom_derivative`. Inside a larger activation it obeys the chain rule: the
    derivative of ``g(u)`` is ``df(u) * u'``. ``f`` and ``df`` are traced on the plain value of
    their argument, so they may only use that argument (not values traced outside them). On
    numbers and arrays it returns ``f``'s value. ``f`` and ``df`` cannot be reassigned, so that
    the traced program cached for this object stays right; make a new one instead.

    Example:
        >>> import eigen_autodiff as ead
        >>> stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))
        >>> isinstance(stable, ead.CustomDerivative)
        True
        >>> print(stable(0.0))  # on numbers: the value function
        1.0
        >>> value, slope = ead.derivative(lambda x: stable(2 * x), 0.0)  # 2 * df(0)
        >>> print(value, slope)
        1.0 -2.0

    """

    def __init__(self, f: Function, df: Function) -> None:
        if not callable(f) or not callable(df):
            raise TypeError(
                "custom_derivative(f, df) needs two callables, got "
                f"{type(f).__name__} and {type(df).__name__}"
            )
        # Only the name, docstring and __wrapped__ are taken from f: copying f's __dict__, as
        # update_wrapper does by default, would replace this object's own _f and _df with those
        # of f when f is itself a custom derivative, and the outer derivative would be lost.
        functools.update_wrapper(self, f, updated=())
        self._f = f
        self._df = df

    @property
    def f(self) -> Function:
        """The function giving the value."""
        return self._f

    @property
    def df(self) -> Function:
        """The function giving the derivative."""
        return self._df

    def __repr__(self) -> str:
        return f"custom_derivative({self.f!r}, {self.df!r})"

    def __call__(self, x: Any) -> Any:
        if isinstance(x, TracedCondition):
            raise TracingError("a custom derivative's argument must be a value, not a condition")
        if not isinstance(x, TracedValue) or x.lane == VALUE:
            # Numbers, or inside another custom derivative's functions, where only values count.
            return self.f(x)
        graph = x.graph
        argument = TracedValue(graph, graph.add("value", VALUE, (x.node,)), VALUE)
        value = operand_node(self.f(argument), graph, VALUE, "custom_derivative: the result of f")
        slope = operand_node(self.df(argument), graph, VALUE, "custom_derivative: the result of df")
        return TracedValue(graph, graph.add("chain", AD, (value, x.node, slope)), AD)


@overload
def custom_derivative(f: Function, df: Function) -> CustomDerivative: ...


@overload
def custom_derivative(
    f: None = None, *, df: Function
) -> Callable[[Function], CustomDerivative]: ...


def custom_derivative(
    f: Function | None = None, df: Function | None = None
) -> CustomDerivative | Callable[[Function], CustomDerivative]:
    """An activation whose value comes from ``f`` and whose derivative comes from ``df``.

    ``df(x)`` is the derivative ``f'(x)`` written by hand in a numerically stable form; the chain
    rule is applied to it, so the result can be used inside larger activations. Both functions
    are traced like any activation. As a decorator, pass the derivative by keyword:
    ``@ead.custom_derivative(df=...)`` above ``def f(x): ...``.

    Example (the article's fix: ``1/exp(x)`` has a NaN automatic derivative at 100 in float32):
        >>> import numpy as np, eigen_autodiff as ead
        >>> stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))
        >>> value, slope = ead.derivative(stable, 100.0)
        >>> bool(slope == -np.exp(-100.0))
        True
        >>> @ead.custom_derivative(df=lambda x: -ead.exp(-x))
        ... def inv_exp(x):
        ...     return 1 / ead.exp(x)
        >>> _, slope32 = ead.derivative(inv_exp, np.float32(100.0))
        >>> bool(np.isfinite(slope32) and slope32 < 0)
        True

    """
    if df is None:
        raise TypeError(
            "custom_derivative needs the derivative df: custom_derivative(f, df), or as a "
            "decorator @custom_derivative(df=...)"
        )
    derivative = df
    if f is None:
        return lambda function: CustomDerivative(function, derivative)
    return CustomDerivative(f, derivative)


__all__ = ["CustomDerivative", "custom_derivative"]
