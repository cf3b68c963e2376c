"""Sphinx configuration: the API reference built from mpnet's docstrings, plus the guides in docs/*.md.

Build (what .ci/run does; warnings are errors, broken cross-references included):

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -n -b html docs docs/_build/html
"""
import importlib
import inspect
import pkgutil
import sys
import typing

import mpnet

project = "mpnet"
author = "the mpnet authors"
release = version = mpnet.__version__

extensions = [
    "sphinx.ext.autodoc",       # pages from docstrings
    "sphinx.ext.autosummary",   # one page per module, found recursively (docs/_templates/autosummary)
    "sphinx.ext.napoleon",      # Google-style Args: / Returns: / Raises: sections
    "myst_parser",              # the guides are Markdown
]
exclude_patterns = ["_build"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

autosummary_generate = True


def _shadowed(package):
    """{package: [names]} where a package attribute hides the submodule of the same name (``mpnet.viz.draw`` is
    both the function users call and the module that defines it)."""
    out = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        parent, _, name = info.name.rpartition(".")
        if name == "__main__":
            continue
        module = importlib.import_module(info.name)
        if getattr(importlib.import_module(parent), name, module) is not module:
            out.setdefault(parent, []).append(name)
    return out


SHADOWED = _shadowed(mpnet)
# the templates in _templates/autosummary render a shadowed name as its module, and leave it out of the
# parent's members (documented there would be the same name twice)
# packages whose __init__ only re-exports: their page is a table of the names, each linking to its module
EXPORTS = {name: [n for n in importlib.import_module(name).__all__
                  if not inspect.ismodule(getattr(importlib.import_module(name), n))]
           for name in ("mpnet", "mpnet.search")}
autosummary_context = {"shadowed": SHADOWED, "exports": EXPORTS,
                       "shadowed_modules": [f"{p}.{n}" for p, names in SHADOWED.items() for n in names]}
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Shapes", "params_style")]   # mpnet's tensor shapes, written like Args:

# Broken references are errors (-n -W), but only references into mpnet can be checked here: the build runs
# offline, so torch, typing and the standard library have no inventory to resolve against.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!mpnet\b).*")]



def _lookup(target, module):
    """The object ``target`` names: a dotted path from ``mpnet``, or a name seen from ``module``."""
    for base in ([] if target.startswith("mpnet.") else [module]) + [""]:
        path = ((base + "." if base else "") + target).split(".")
        if path[0] != "mpnet":
            continue
        obj = importlib.import_module("mpnet")
        for i in range(1, len(path)):
            if hasattr(obj, path[i]):
                obj = getattr(obj, path[i])
            else:
                try:
                    obj = importlib.import_module(".".join(path[: i + 1]))
                except ImportError:
                    obj = None
            if obj is None:
                break
        else:
            return path[-1], obj
    return None


def _candidates(target, module):
    """Where the object ``target`` names may be documented: its defining module (``mpnet.Network`` is
    ``mpnet.model.Network``), then every mpnet module that exports it (data such as ``ACTIVATIONS``)."""
    found = _lookup(target, module)
    if found is None:
        return []
    name, obj = found
    out = []
    if getattr(obj, "__qualname__", None) and str(getattr(obj, "__module__", "")).startswith("mpnet"):
        out.append(f"{obj.__module__}.{obj.__qualname__}")
    parent = _lookup(target.rpartition(".")[0], module) if "." in target else None
    if parent is not None and inspect.isclass(parent[1]) and parent[1].__module__.startswith("mpnet"):
        out.append(f"{parent[1].__module__}.{parent[1].__qualname__}.{name}")   # an attribute of a class
    for modname, mod in sorted(sys.modules.items()):
        if modname.startswith("mpnet") and name in getattr(mod, "__all__", ()) and getattr(mod, name) is obj:
            out.append(f"{modname}.{name}")
    return [c for c in out if c != target]


def _resolve_reexports(app, env, node, contnode):
    """Resolve references to the top-level shortcuts (``mpnet.Network``) and to names a module imports
    (``TopologyError`` in :mod:`mpnet.graph.topology`) to where they are documented."""
    if node.get("refdomain") != "py":
        return None
    py = env.get_domain("py")
    found = _lookup(node["reftarget"], node.get("py:module") or "")
    if found is not None and isinstance(found[1], typing.TypeVar):
        return contnode      # a type variable of a signature: plain text, there is nothing to link to
    for candidate in _candidates(node["reftarget"], node.get("py:module") or ""):
        for reftype in (node["reftype"], "obj"):
            found = py.resolve_xref(env, node["refdoc"], app.builder, reftype, candidate, node, contnode)
            if found is not None:
                return found
    return None


def _skip_reexported(app, what, name, obj, skip, options):
    """A module's page documents what the module defines; a class or function it only re-exports (in its
    ``__all__``, e.g. ``Network`` in :mod:`mpnet.model`) is documented once, with the module that defines it,
    and references to it resolve there (:func:`_resolve_reexports`)."""
    module = app.env.temp_data.get("autodoc:module")
    if what == "module" and module and (inspect.isclass(obj) or inspect.isfunction(obj)):
        home = getattr(obj, "__module__", "") or ""
        if home.startswith("mpnet") and home != module:
            return True
    return None


def setup(app):
    app.connect("missing-reference", _resolve_reexports)
    app.connect("autodoc-skip-member", _skip_reexported)


myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_title = f"mpnet {release}"
