"""Activations written in Python and traced into C++ programs.

``symbolic`` holds the values an activation receives while traced and the graph they record,
``primitives`` the functions activations are written with, ``trace`` the cache and the hand-over
of the graph to C++, ``custom_derivative`` derivatives supplied by hand, ``expression`` text
parsed into an activation, ``activation_spec`` what ``activation=`` may be, ``errors`` the
tracing errors.
"""
