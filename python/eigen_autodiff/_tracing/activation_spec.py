"""What ``activation=`` may be, and the one conversion to what the C++ core receives."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Union

from .._native import _core
from .trace import trace

# The built-in activations' names.
ACTIVATIONS: tuple[str, ...] = tuple(_core.ACTIVATIONS)

# A built-in name ("sin", see ead.ACTIVATIONS), a Python callable traced into C++, or a program
# already traced (ead.trace).
ActivationLike = Union[str, Callable[[Any], Any], _core.TracedProgram, None]


def activation_spec(activation: object) -> str | _core.TracedProgram:
    """The activation as ``_core`` takes it: a built-in name, or the traced program of a callable.

    Every public function that takes ``activation=`` goes through here, so a new kind of
    activation is added in this one place. ``"linear"`` and None are the identity, as in
    Keras; an unknown name raises ValueError with the closest built-in name.

    Example:
        >>> from eigen_autodiff._tracing.activation_spec import activation_spec
        >>> activation_spec("sin")
        'sin'
        >>> activation_spec(None)
        'identity'
        >>> activation_spec(lambda x: 2 * x)
        <TracedProgram '<lambda>', 1 instruction>

    """
    if activation is None or activation == "linear":
        return "identity"  # Keras' names for no activation
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            close = difflib.get_close_matches(activation, ACTIVATIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown activation {activation!r}{hint}; built-in activations: "
                f"{', '.join(ACTIVATIONS)}; 'linear' or None for the identity; or a callable"
            )
        return activation
    if isinstance(activation, _core.TracedProgram):
        return activation
    if callable(activation):
        return trace(activation)
    raise TypeError(
        "activation must be the name of a built-in activation or a callable (traced into C++), "
        f"got {type(activation).__name__}"
    )


__all__ = ["ACTIVATIONS", "ActivationLike"]
