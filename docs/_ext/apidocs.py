"""Make the autodoc API reference follow Python's imports.

apophis_sim re-exports names (``apophis_sim.State`` is ``apophis_sim.state.State``;
``apophis_sim.nbody`` re-exports ``OrbitSolution`` from ``apophis_sim.solution``),
and docstrings refer to names as the module sees them (``:func:`apophis``` inside
``apophis_sim.uncertainty``, which imports it). Sphinx knows neither. This
extension, configured with ``apophis_api_modules`` (the modules that have an
``automodule`` page, in order):

* documents every class and function once, on the page of the module that defines
  it (``obj.__module__``, or a package containing it, such as
  ``apophis_sim.plotting``); the other modules whose ``__all__`` lists it get a
  "Re-exported here" note linking to it instead of a second copy;
* resolves references that Sphinx reports missing by importing the target the way
  Python would, from the referring module outwards, and linking to where that
  object is documented; private modules (``apophis_sim._core``) are not resolved
  and stay nitpick errors unless listed in ``nitpick_ignore``.

Everything is computed from ``__all__`` at build time, so a new public name needs
no edit here.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)

_MISSING = object()


def _documentable(obj: Any) -> bool:
    """A class or function (also behind a decorator such as ``functools.lru_cache``)."""
    try:
        obj = inspect.unwrap(obj)
    except ValueError:
        pass
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)


class Registry:
    """Where each public object of the documented modules is documented."""

    def __init__(self, modules: list[str], table_modules: list[str]):
        self.modules = modules
        self.by_id: dict[int, str] = {}            # classes and functions
        self.by_attr: dict[tuple[str, str], str] = {}  # (module, name) -> documented name
        listed: list[tuple[str, str, Any]] = []
        for modname in modules:
            mod = importlib.import_module(modname)
            for name in getattr(mod, "__all__", ()):
                listed.append((modname, name, getattr(mod, name, _MISSING)))
        documenting = [m for m in modules if m not in table_modules]
        # 1. objects documented where they are defined (or in a documented package).
        for modname, name, obj in listed:
            if modname in table_modules or not _documentable(obj):
                continue
            home = getattr(obj, "__module__", "") or ""
            if home == modname or home.startswith(modname + "."):
                self.by_id.setdefault(id(obj), f"{modname}.{name}")
        # 2. the rest: the first documenting module that lists them.
        for modname, name, obj in listed:
            if modname in documenting and _documentable(obj):
                self.by_id.setdefault(id(obj), f"{modname}.{name}")
        # 3. data: where a documenting module lists it; table modules point there.
        for modname, name, obj in listed:
            if modname in documenting and not _documentable(obj):
                self.by_attr[(modname, name)] = f"{modname}.{name}"
        for modname, name, obj in listed:
            if modname in table_modules and not _documentable(obj):
                for other in documenting:
                    if getattr(importlib.import_module(other), name, _MISSING) is obj:
                        self.by_attr[(modname, name)] = f"{other}.{name}"
                        break

    def home(self, module: str, name: str, obj: Any) -> str | None:
        if _documentable(obj):
            return self.by_id.get(id(obj))
        if inspect.ismodule(obj):
            return obj.__name__ if obj.__name__ in self.modules else None
        return self.by_attr.get((module, name))


def _import(dotted: str) -> tuple[str, list[str], Any] | None:
    """(module name, attribute chain, first attribute's value) of a dotted path."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        modname = ".".join(parts[:cut])
        try:
            mod = importlib.import_module(modname)
        except Exception:
            continue
        rest = parts[cut:]
        if not rest:
            return modname, [], mod
        head = getattr(mod, rest[0], _MISSING)
        if head is _MISSING:
            return None
        obj = head
        for attr in rest[1:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return None
        return modname, rest, head
    return None


def _canonical(registry: Registry, target: str, modname: str | None,
               clsname: str | None) -> str | None:
    candidates = []
    if modname:
        if clsname:
            candidates.append(f"{modname}.{clsname}.{target}")
        candidates.append(f"{modname}.{target}")
    candidates.append(target)
    for dotted in candidates:
        found = _import(dotted)
        if found is None:
            continue
        module, chain, head = found
        if not chain:
            return module if module in registry.modules else None
        home = registry.home(module, chain[0], head)
        if home is None:
            continue
        return ".".join([home, *chain[1:]])
    # Names imported only for type checking (``if TYPE_CHECKING:``) are not module
    # attributes at run time: accept a documented class or function of that name if
    # exactly one exists.
    first, _, rest = target.partition(".")
    matches = {home for home in registry.by_id.values() if home.rsplit(".", 1)[-1] == first}
    if len(matches) == 1:
        return ".".join(filter(None, [matches.pop(), rest]))
    return None


_current_module: dict[str, str] = {}


def _on_builder_inited(app) -> None:
    app.env.apophis_registry = Registry(list(app.config.apophis_api_modules),
                                        list(app.config.apophis_table_modules))


def _registry(app) -> Registry:
    reg = getattr(app.env, "apophis_registry", None)
    if reg is None:
        _on_builder_inited(app)
        reg = app.env.apophis_registry
    return reg


def _on_process_docstring(app, what, name, obj, options, lines) -> None:
    if what != "module" or name not in app.config.apophis_api_modules:
        return
    _current_module["name"] = name
    if name in app.config.apophis_table_modules:
        return
    reg = _registry(app)
    elsewhere = []
    for member in getattr(obj, "__all__", ()):
        value = getattr(obj, member, _MISSING)
        if _documentable(value):
            home = reg.home(name, member, value)
            if home and home != f"{name}.{member}":
                role = "class" if inspect.isclass(value) else "func"
                elsewhere.append(f":py:{role}:`{member} <{home}>`")
    if elsewhere:
        lines += ["", ".. rubric:: Re-exported here", "",
                  "Documented in their own module: " + ", ".join(elsewhere) + ".", ""]


def _on_skip_member(app, what, name, obj, skip, options):
    if what != "module" or skip:
        return None
    modname = _current_module.get("name")
    if modname is None or modname in app.config.apophis_table_modules:
        return None
    if _documentable(obj):
        home = _registry(app).home(modname, name, obj)
        if home and home != f"{modname}.{name}":
            return True
    return None


def _on_missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    context = node.get("py:module") or ""
    if target.startswith("apophis_sim._core") or (
            "apophis_sim" not in target and not context.startswith("apophis_sim")):
        return None
    canonical = _canonical(_registry(app), target, node.get("py:module"), node.get("py:class"))
    if canonical is None or canonical == target:
        return None
    domain = env.get_domain("py")
    found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical,
                                node, contnode)
    if found is None and node["reftype"] in ("attr", "meth") and "." in canonical:
        # A dataclass field or NamedTuple member described in its class's numpydoc
        # "Attributes" section has no entry of its own: link to the class.
        found = domain.resolve_xref(env, node["refdoc"], app.builder, "class",
                                    canonical.rsplit(".", 1)[0], node, contnode)
    return found


def setup(app):
    app.add_config_value("apophis_api_modules", [], "env")
    app.add_config_value("apophis_table_modules", [], "env")
    app.connect("builder-inited", _on_builder_inited)
    app.connect("autodoc-process-docstring", _on_process_docstring)
    app.connect("autodoc-skip-member", _on_skip_member)
    app.connect("missing-reference", _on_missing_reference)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
