"""What ``activation=`` may be, and the one conversion to what the C++ core receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from ._native import _core
from ._trace import trace

# A built-in name ("sin", see ead.ACTIVATIONS), a Python callable traced into C++, or a program
# already traced (ead.trace).
ActivationLike = Union[str, Callable[[Any], Any], _core.TracedProgram]


def activation_spec(activation: object) -> str | _core.TracedProgram:
    """The activation as ``_core`` takes it: a built-in name, or the traced program of a callable.

    Every public function that takes ``activation=`` goes through here, so a new kind of
    activation is added in this one place. Unknown names are left to the C++ core, which knows
    the built-ins and raises ValueError listing them.

    Example:
        >>> from eigen_autodiff._activation_spec import activation_spec
        >>> activation_spec("sin")
        'sin'
        >>> activation_spec(lambda x: 2 * x)
        <TracedProgram '<lambda>', 1 instruction>

    """
    if isinstance(activation, str):
        return activation
    if isinstance(activation, _core.TracedProgram):
        return activation
    if callable(activation):
        return trace(activation)
    raise TypeError(
        "activation must be the name of a built-in activation or a callable (traced into C++), "
        f"got {type(activation).__name__}"
    )


__all__ = ["ActivationLike"]
