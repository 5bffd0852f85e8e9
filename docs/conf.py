"""Sphinx configuration: the README's guide, the Python API from docstrings, the C++ headers.

Build with warnings as errors, as CI does (README, "Documentation"):

    sphinx-build -W --keep-going -b html docs docs/_build/html
    sphinx-build -W --keep-going -b doctest docs docs/_build/doctest

The package is documented as installed (``pip install ".[docs]"``), compiled module included:
autodoc imports it, and the doctest builder runs every example the pages show.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext.autodoc.mock import ismock
from sphinx.util import logging

import eigen_autodiff

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "eigen-autodiff"
author = "eigen-autodiff contributors"
copyright = "eigen-autodiff contributors"
release = eigen_autodiff.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "cpp_headers",
    "traced_operations",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
# README.md is read through index.md's include; its own links (docs/layout.md, #anchors) are
# rewritten there, and headings get anchors so "#your-own-activation" resolves.
myst_heading_anchors = 3
# Untagged code blocks (the README's sample report) are plain text, not Python to highlight.
highlight_language = "none"

# The docstrings are Google style: prose, then "Example:" with doctest lines.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
# Signatures without annotations: those are for mypy, and Sphinx spells NumPy's ArrayLike as its
# private unions; each docstring says in words what its arguments may be.
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": True}

# The framework modules import their framework at import time. Where one is not installed, it is
# mocked so that its page still builds, and its examples are skipped (see _skip_examples); CI
# installs all three, so there every example runs against the real framework. A framework that
# is installed is never mocked: the doctest builder imports the same modules again.
FRAMEWORKS = {
    "api/torch": ("torch",),
    "api/jax": ("jax",),
    "api/keras": ("keras", "tensorflow"),
}
MISSING = sorted(
    {name for names in FRAMEWORKS.values() for name in names if not importlib.util.find_spec(name)}
)
autodoc_mock_imports = MISSING

# Each example imports what it uses, as a reader would copy it: no global setup.
trim_doctest_flags = True

html_theme = "alabaster"
html_title = f"eigen-autodiff {release}"
html_static_path: list[str] = []

logger = logging.getLogger(__name__)


def _skip_examples(app: Sphinx, doctree: nodes.document) -> None:
    """Mark the examples of a framework page as skipped when that framework is not installed."""
    docname = app.env.docname
    missing = [name for name in FRAMEWORKS.get(docname, ()) if name in MISSING]
    if not missing:
        return
    for block in doctree.findall(nodes.doctest_block):
        block["skipif"] = "True"
    logger.info("%s: examples skipped, %s not installed", docname, ", ".join(missing))


def _skip_mocked_members(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    """Leave out members that exist only as mocks (a missing framework's base classes).

    Keras' decorator on ``eigen_autodiff.keras.CustomLayer`` is a mock where Keras is missing,
    and the members reached through it would be mocks too; with Keras installed (CI) none is.
    """
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    owner = getattr(module, getattr(obj, "__qualname__", "").split(".")[0], None)
    return True if ismock(obj) or ismock(owner) else None


def _init_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """A class's ``__init__`` parameters where its base's ``__new__`` hides them.

    Keras' ``Layer.__new__(cls, *args, **kwargs)`` is what autodoc finds first for
    ``eigen_autodiff.keras.CustomLayer``; its constructor's own parameters say more.
    """
    if what != "class" or signature != "(*args, **kwargs)" or not isinstance(obj, type):
        return None
    init = inspect.signature(obj.__init__)  # type: ignore[misc]
    # Without self, and without annotations, as autodoc_typehints = "none" shows the others.
    parameters = [p.replace(annotation=p.empty) for p in list(init.parameters.values())[1:]]
    return str(init.replace(parameters=parameters, return_annotation=init.empty)), None


def _check_public_names(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under -W) for a public name that no page documents.

    ``eigen_autodiff.__all__`` is the contract (DESIGN.md); a name added there without its entry
    in api/python.md fails the build instead of going undocumented.
    """
    documented = set(env.get_domain("py").objects)  # type: ignore[attr-defined]
    for name in eigen_autodiff.__all__:
        if f"eigen_autodiff.{name}" not in documented:
            logger.warning("eigen_autodiff.%s is public but not documented (docs/api/)", name)


def setup(app: Sphinx) -> None:
    """Connect the checks above."""
    app.connect("doctree-read", _skip_examples)
    app.connect("autodoc-skip-member", _skip_mocked_members)
    app.connect("autodoc-process-signature", _init_signature)
    app.connect("env-check-consistency", _check_public_names)
