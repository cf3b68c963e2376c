#!/usr/bin/env python
"""Which public definitions of mpnet lack a docstring, or an ``Args:`` section for their arguments.

    python scripts/docstrings.py              # the lists and the counts
    python scripts/docstrings.py --summary    # the counts only (what .ci/run prints)
    python scripts/docstrings.py --strict     # exit 1 if any public definition has no docstring

Public: every name in a module's ``__all__`` defined in mpnet (re-exports counted once, where they are
defined), and the public methods and properties a public class defines itself (not the ones it inherits
from torch or the standard library; dataclass-generated methods excluded).
"""
import importlib
import inspect
import os
import pkgutil
import sys
from typing import List, Optional, Tuple

import mpnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _args import Parser  # noqa: E402  (the scripts' shared argument handling)

SKIP_MODULES = {"mpnet.__main__"}


def public_definitions() -> List[Tuple[str, object]]:
    """``(qualified name, object)`` of every public definition, each once, in module order."""
    seen, out = set(), []
    modules = [mpnet] + [importlib.import_module(m.name) for m in
                         pkgutil.walk_packages(mpnet.__path__, "mpnet.") if m.name not in SKIP_MODULES]
    for module in modules:
        out.append((module.__name__, module))
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("mpnet") or id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{obj.__module__}.{obj.__qualname__}", obj))
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or attr in getattr(obj, "__dataclass_fields__", {}):
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property) or (inspect.isfunction(value)
                                                       and value.__module__.startswith("mpnet")):
                        out.append((f"{obj.__module__}.{obj.__qualname__}.{attr}", value))
    return out


def needs_args(obj) -> bool:
    """A function or method whose arguments (beyond self/cls) its docstring does not list under ``Args:``."""
    if not inspect.isfunction(obj) or "Args:" in (obj.__doc__ or ""):
        return False
    params = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    return bool(params)


def main(argv: Optional[List[str]] = None) -> int:
    p = Parser(prog="docstrings.py", description=__doc__.split("\n")[0])
    p.add_argument("--strict", action="store_true", help="fail when a public definition has no docstring")
    p.add_argument("--summary", action="store_true", help="print the counts only")
    args = p.parse_args(argv)
    defs = public_definitions()
    missing = [name for name, obj in defs if not (inspect.getdoc(obj) if not isinstance(obj, property)
                                                  else obj.__doc__)]
    no_args = [name for name, obj in defs if name not in missing and needs_args(obj)]
    print(f"{len(defs)} public definitions (modules, classes, functions, methods, properties); "
          f"{len(defs) - len(missing)} have a docstring, {len(missing)} do not; {len(no_args)} more have no Args: "
          f"section for their arguments.")
    if args.summary:
        return 1 if args.strict and missing else 0
    print(f"\nWithout a docstring ({len(missing)}):")
    for name in missing:
        print(f"  {name}")
    print(f"\nWith a docstring but no Args: section for their arguments ({len(no_args)}):")
    for name in no_args:
        print(f"  {name}")
    return 1 if args.strict and missing else 0


if __name__ == "__main__":
    sys.exit(main())
