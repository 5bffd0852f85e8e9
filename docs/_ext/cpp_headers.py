"""Sphinx directive ``cpp-headers``: the C++ API read from the headers themselves.

The headers document themselves in plain ``//`` comments (a file comment, then a comment above
each declaration), which Doxygen does not read. This directive reads them at build time, so the
pages cannot drift from the code: for each header, its file comment, then every declaration at
namespace scope (``detail`` excluded) and the public members of its classes, each with the comment
above it. Bodies of functions are left out; enumerations and macros are shown whole, since their
body is their interface.

``.. cpp-headers:: core`` documents every header of ``cpp/include/eigen_autodiff/core/``; a path
ending in ``.hpp`` documents that header alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

INCLUDE = Path(__file__).resolve().parents[2] / "cpp" / "include"
LIBRARY = INCLUDE / "eigen_autodiff"
# Namespaces that hold implementation details, not API.
HIDDEN_NAMESPACES = {"detail", "internal", ""}

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    """One declaration: its source without body, the comment above it, its public members."""

    signature: str
    comment: list[str]
    members: list[Entry] = field(default_factory=list)


@dataclass
class Header:
    """A header's file comment and its declarations, in source order."""

    comment: list[str]
    entries: list[Entry]


def _mask(text: str) -> tuple[str, str]:
    """The text with comments blanked, and also with string and character literals blanked.

    Both keep every character's offset; the first is what is shown, the second what braces and
    semicolons are counted in, so that a brace inside a string or comment changes nothing.
    """
    shown = list(text)
    scanned = list(text)
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    for match in pattern.finditer(text):
        start, end = match.span()
        is_comment = match.group().startswith("/")
        for i in range(start, end):
            if text[i] != "\n":
                if is_comment:
                    shown[i] = " "
                # Keep the quotes so that the literal still reads as one token.
                if is_comment or start < i < end - 1:
                    scanned[i] = " "
    return "".join(shown), "".join(scanned)


def _comment_above(lines: list[str], line: int) -> list[str]:
    """The ``//`` lines directly above line ``line`` (0-based), without the slashes."""
    found: list[str] = []
    i = line - 1
    while i >= 0 and lines[i].lstrip().startswith("//"):
        found.append(lines[i].lstrip()[2:])
        i -= 1
    return _strip_comment(found[::-1])


def _strip_comment(lines: list[str]) -> list[str]:
    # One space follows the slashes; more is indentation that the text means (code, tables).
    return [line[1:] if line.startswith(" ") else line for line in lines]


def _skip_block(scanned: str, start: int) -> int:
    """The offset just after the brace that closes the one at ``start``."""
    depth = 0
    for i in range(start, len(scanned)):
        if scanned[i] == "{":
            depth += 1
        elif scanned[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced braces")


def _clean(source: str, column: int = 0) -> str:
    # The first line starts at its token; the others keep their indentation, relative to it.
    source = " " * column + source
    lines = [line.rstrip() for line in dedent(source.strip("\n")).splitlines()]
    return "\n".join(line for line in lines if line.strip())


_MACRO_CALL = re.compile(r"[A-Z][A-Z0-9_]*\s*\(.*\)\Z", re.S)


def _declaration(head: str) -> str:
    """A definition's head without what only the definition needs.

    That is a constructor's member initialisers and the ``=`` before a brace initialiser.
    """
    head = re.sub(r"\)(\s*(?:const|noexcept)?)\s*:\s*\w+\s*[({].*\Z", r")\1", head, flags=re.S)
    return re.sub(r"\s*=\Z", "", head)


_CLASS = re.compile(r"^(?:template\s*<.*>\s*)?(struct|class|union)\s+(\w+)[^(]*$", re.S)


def _parse_scope(
    text: str, shown: str, scanned: str, lines: list[str], start: int, end: int, public: bool
) -> tuple[list[Entry], int]:
    """The entries between ``start`` and the closing brace of the scope (or ``end``).

    ``public`` is whether declarations are visible at the start (namespaces and structs: yes;
    classes: no until ``public:``). Returns the entries and the offset after the scope.
    """
    entries: list[Entry] = []
    visible = public
    i = start
    statement_start: int | None = None
    parens = 0

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset)

    def column(offset: int) -> int:
        return offset - (text.rfind("\n", 0, offset) + 1)

    while i < end:
        char = scanned[i]
        if statement_start is None:
            if char.isspace():
                i += 1
                continue
            if char == "}":
                return entries, i + 1
            if char == "#":
                # A preprocessor line and its continuations; a #define is API, shown whole.
                stop = i
                while True:
                    stop = scanned.find("\n", stop)
                    if stop == -1:
                        stop = len(scanned)
                        break
                    if scanned[stop - 1] != "\\":
                        break
                    stop += 1
                directive = shown[i:stop]
                if visible and re.match(r"#\s*define\s+(?!EIGEN_AUTODIFF_\w*_H\b)", directive):
                    entries.append(
                        Entry(_clean(directive, column(i)), _comment_above(lines, line_of(i)))
                    )
                i = stop
                continue
            statement_start = i
            parens = 0
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
            if parens == 0 and _MACRO_CALL.match(scanned, statement_start, i + 1):
                # A macro invocation ends without a semicolon; consecutive ones (a list of
                # instances) are shown as one block.
                if visible:
                    invocation = _clean(shown[statement_start : i + 1], column(statement_start))
                    comment = _comment_above(lines, line_of(statement_start))
                    previous = entries[-1] if entries else None
                    if previous and not comment and _MACRO_CALL.match(previous.signature):
                        previous.signature += "\n" + invocation
                    else:
                        entries.append(Entry(invocation, comment))
                statement_start = None
        elif char == ":" and parens == 0:
            label = scanned[statement_start : i + 1].strip()
            if label in ("public:", "private:", "protected:"):
                visible = label == "public:"
                statement_start = None
        elif char == ";" and parens == 0:
            statement = shown[statement_start : i + 1]
            head = statement.strip()
            if visible and not head.startswith(("static_assert", "friend", "using namespace")):
                comment = _comment_above(lines, line_of(statement_start))
                # A member's comment may follow it on its line instead.
                trailing = re.match(r"[ \t]*//(.*)", text[i + 1 : text.find("\n", i)])
                if trailing:
                    comment += _strip_comment([trailing.group(1)])
                entries.append(Entry(_clean(statement, column(statement_start)), comment))
            statement_start = None
        elif char == "{" and parens == 0:
            head = shown[statement_start:i].strip()
            comment = _comment_above(lines, line_of(statement_start))
            namespace = re.fullmatch(r"(?:inline\s+)?namespace\s*([\w:]*)", head)
            klass = _CLASS.match(head)
            if namespace:
                name = namespace.group(1).split("::")[-1]
                inner, i = _parse_scope(
                    text, shown, scanned, lines, i + 1, end, name not in HIDDEN_NAMESPACES
                )
                if visible and name not in HIDDEN_NAMESPACES:
                    if name != "eigen_autodiff":
                        # Declarations placed in another namespace (Eigen's, for overloads)
                        # say so, since their names are looked up there.
                        for entry in inner:
                            entry.signature = f"// namespace {name}\n{entry.signature}"
                    entries.extend(inner)
                statement_start = None
                continue
            if klass and visible:
                members, after = _parse_scope(
                    text, shown, scanned, lines, i + 1, end, klass.group(1) != "class"
                )
                entries.append(Entry(_clean(head, column(statement_start)), comment, members))
            else:
                after = _skip_block(scanned, i)
                if visible:
                    if head.startswith("enum"):
                        # The enumerators' own comments are part of the interface.
                        entries.append(
                            Entry(
                                _clean(text[statement_start:after], column(statement_start)),
                                comment,
                            )
                        )
                    elif not head.startswith("static_assert"):
                        entries.append(
                            Entry(_clean(_declaration(head), column(statement_start)), comment)
                        )
            # A brace initialiser or a class definition ends with its own semicolon.
            rest = re.match(r"\s*;", scanned[after:])
            i = after + (rest.end() if rest else 0)
            statement_start = None
            continue
        i += 1
    return entries, end


def parse_header(path: Path) -> Header:
    """The file comment and the public declarations of one header."""
    text = path.read_text(encoding="utf-8")
    shown, scanned = _mask(text)
    lines = text.splitlines()
    comment_lines = []
    for line in lines:
        if not line.startswith("//"):
            break
        comment_lines.append(line[2:])
    # The file comment is not also the comment of the first declaration.
    skip = sum(len(line) + 1 for line in lines[: len(comment_lines)])
    blanked = " " * skip + text[skip:]
    entries, _ = _parse_scope(
        blanked, shown, scanned, blanked.splitlines(), skip, len(text), public=True
    )
    return Header(_strip_comment(comment_lines), entries)


def _comment_nodes(comment: list[str]) -> list[nodes.Node]:
    """Prose lines as paragraphs, indented lines (code, tables) as literal blocks.

    The comments are plain text, not reStructuredText: they are not parsed, so a ``*`` or a
    backquote in them shows as written.
    """
    result: list[nodes.Node] = []
    run: list[str] = []
    literal = False

    def flush() -> None:
        if not run:
            return
        if literal:
            text = dedent("\n".join(run))
            result.append(nodes.literal_block(text, text, language="text"))
        else:
            result.append(nodes.paragraph(text=" ".join(line.strip() for line in run)))
        run.clear()

    for line in comment:
        if not line.strip():
            flush()
            continue
        indented = line.startswith(" ")
        if indented != literal:
            flush()
            literal = indented
        run.append(line)
    flush()
    return result


def _entry_nodes(entry: Entry) -> list[nodes.Node]:
    block = nodes.literal_block(entry.signature, entry.signature, language="cpp")
    result: list[nodes.Node] = [block, *_comment_nodes(entry.comment)]
    if entry.members:
        members = nodes.block_quote()
        for member in entry.members:
            members.extend(_entry_nodes(member))
        result.append(members)
    return result


class CppHeaders(SphinxDirective):
    """A section per header of a folder of ``cpp/include/eigen_autodiff/`` (or one header)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """The nodes that replace the directive."""
        target = LIBRARY / self.arguments[0]
        # A folder's own headers, not its subfolders': "." is the top-level headers alone.
        paths = [target] if target.suffix == ".hpp" else sorted(target.glob("*.hpp"))
        if not paths:
            raise self.error(f"no header at {target.relative_to(INCLUDE)}")
        sections: list[nodes.Node] = []
        for path in paths:
            # Rebuild the page when the header changes.
            self.env.note_dependency(str(path))
            name = path.relative_to(INCLUDE).as_posix()
            section = nodes.section(
                ids=[nodes.make_id(name)], names=[nodes.fully_normalize_name(name)]
            )
            section += nodes.title(text=name)
            header = parse_header(path)
            section.extend(_comment_nodes(header.comment))
            for entry in header.entries:
                section.extend(_entry_nodes(entry))
            # An explicit target, so that other pages can {ref} a header by its path.
            self.state.document.note_explicit_target(section, section)
            sections.append(section)
            _documented(self.env).setdefault(self.env.docname, set()).add(name)
        return sections


def _documented(env: BuildEnvironment) -> dict[str, set[str]]:
    """Docname -> the headers that page documents, kept across incremental builds."""
    if not hasattr(env, "cpp_headers_documented"):
        env.cpp_headers_documented = {}  # type: ignore[attr-defined]
    table: dict[str, set[str]] = env.cpp_headers_documented  # type: ignore[attr-defined]
    return table


def _forget(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _documented(env).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    _documented(env).update(_documented(other))


def _check_all_documented(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under -W) for a header that no page documents."""
    documented = set().union(*_documented(env).values())
    for path in sorted(LIBRARY.rglob("*.hpp")):
        name = path.relative_to(INCLUDE).as_posix()
        if name not in documented:
            logger.warning("C++ header %s is not documented (add it to docs/api/cpp/)", name)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directive and the check that every header has a page."""
    app.add_directive("cpp-headers", CppHeaders)
    app.connect("env-purge-doc", _forget)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_all_documented)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
