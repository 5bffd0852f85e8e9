"""Sphinx directive ``traced-operations``: the table of traced operations, from the library.

The list is ``EIGEN_AUTODIFF_TRACED_OPERATIONS`` in ``traced/program.hpp``, exported by the
compiled module as ``eigen_autodiff._core.OPERATIONS``; the table is made from that export, so the
conventions it states (``sqrt'(0) = +inf``, ties of ``maximum``) are written in the header only.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _cell(text: str, literal: bool = False) -> nodes.entry:
    inner = nodes.literal(text=text) if literal and text else nodes.Text(text)
    return nodes.entry("", nodes.paragraph("", "", inner))


class TracedOperations(SphinxDirective):
    """A table: operation, the NumPy ufunc that records it, what it computes."""

    def run(self) -> list[nodes.Node]:
        """The nodes that replace the directive."""
        from eigen_autodiff import _core

        headings = ("operation", "NumPy ufunc", "what it computes")
        group = nodes.tgroup(cols=len(headings))
        for width in (2, 2, 8):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += nodes.row("", *(_cell(text) for text in headings))
        body = nodes.tbody()
        for operation in _core.OPERATIONS:
            body += nodes.row(
                "",
                _cell(operation.name, literal=True),
                _cell(operation.numpy, literal=True),
                _cell(operation.doc),
            )
        group += head
        group += body
        return [nodes.table("", group)]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive."""
    app.add_directive("traced-operations", TracedOperations)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
