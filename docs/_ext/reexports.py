"""``.. apophis-reexports:: MODULE``: a table of the names a package re-exports.

``apophis_sim`` re-exports the most used names of its submodules. Documenting them
twice (as ``apophis_sim.State`` and ``apophis_sim.state.State``) would double the
API reference and make short cross-references ambiguous, so the package page
lists ``__all__`` instead, each name linked to where it is documented. The table
is computed at build time: a name added to ``__all__`` appears automatically.
"""

from __future__ import annotations

import importlib
import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective


def _role(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.ismodule(obj):
        return "mod"
    if callable(obj):
        return "func"
    return "data"


def _home(module, name: str, obj) -> str:
    """Dotted path of the page where ``name`` is documented."""
    if inspect.ismodule(obj):
        return obj.__name__
    home = getattr(obj, "__module__", None)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)) or home is None:
        # Constants carry no __module__: find the submodule whose __all__ lists them.
        for sub in sorted(vars(module).values(), key=lambda m: getattr(m, "__name__", "")):
            if inspect.ismodule(sub) and name in getattr(sub, "__all__", ()):
                home = sub.__name__
                break
    return f"{home}.{name}"


def _summary(obj, target: str) -> str:
    """First paragraph of the docstring (or of the ``#:`` comment of a constant)."""
    if inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj):
        doc = inspect.getdoc(obj) or ""
    else:
        home, _, name = target.rpartition(".")
        try:
            doc = "\n".join(ModuleAnalyzer.for_module(home).find_attr_docs().get(("", name), []))
        except Exception:
            doc = ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


class ReexportsDirective(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        module = importlib.import_module(self.arguments[0])
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "",
                 "   * - name", "     - summary"]
        for name in module.__all__:
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            target = _home(module, name, obj)
            summary = _summary(obj, target) or "\\ "
            lines += [f"   * - :py:{_role(obj)}:`{name} <{target}>`", f"     - {summary}"]
        node = nodes.section()
        self.state.nested_parse(StringList(lines, source="apophis-reexports"), self.content_offset,
                                node)
        return node.children


def setup(app):
    app.add_directive("apophis-reexports", ReexportsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
