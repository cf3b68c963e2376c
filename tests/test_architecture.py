"""The shape of the package (docs/architecture.md): data flows one way through the stages, no import circles.

Read from the source with ``ast``, so every import counts, those inside functions too; only imports under
``if TYPE_CHECKING:`` are left out (they never run). A failure names the modules and the line to change.
"""
import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mpnet"

#: Each top-level part of mpnet and its stage: a part imports only parts of a lower stage (docs/architecture.md).
STAGE = {
    "errors": 0, "threads": 0, "_moved": 0,
    "checks": 1,
    "graph": 2,
    "engine": 3,
    "model": 4,
    "train": 5,
    "io": 6, "signs": 6, "scale": 6, "connectome": 6, "testing": 6, "examples": 6,
    "viz": 7,
    "search": 8,
    "__init__": 9, "demo": 9,
    "cli": 10,
    "__main__": 11,
}
#: The longest module allowed without a word of why (STYLE.md: past ~400 lines a module is usually two ideas).
MAX_LINES = 400


def _modules() -> Dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


MODULES = _modules()


def _type_checking_only(tree: ast.AST) -> Set[int]:
    skip: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                skip.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skip


def imports_of(module: str) -> List[Tuple[str, int]]:
    """The mpnet modules that ``module`` imports when it runs, with the line of each import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found += [(t, node.lineno) for t in dict.fromkeys(targets) if t in MODULES and t != module]
    return found


def part_of(module: str) -> str:
    names = module.split(".")
    return names[1] if len(names) > 1 else "__init__"


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_part_has_a_stage():
    assert {part_of(m) for m in MODULES} <= set(STAGE), "a new top-level part of mpnet needs a stage in STAGE"


def test_imports_point_down_the_stages():
    wrong = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} imports {t} "
             f"({part_of(m)}, stage {STAGE[part_of(m)]}, may import stages below it only; {part_of(t)} is stage "
             f"{STAGE[part_of(t)]})"
             for m, targets in GRAPH.items() for t, line in targets
             if part_of(t) != part_of(m) and STAGE[part_of(t)] >= STAGE[part_of(m)]]
    assert not wrong, "\n".join(wrong)


def find_cycle(graph: Dict[str, List[str]]) -> List[str]:
    """One import circle of ``graph`` (``[a, b, ..., a]``), or ``[]`` when there is none."""
    state: Dict[str, int] = {}      # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


@pytest.mark.parametrize("graph, expected", [
    ({"a": ["b"], "b": ["c"], "c": []}, []),
    ({"a": ["b"], "b": ["a"]}, ["a", "b", "a"]),
    ({"a": ["b"], "b": ["c"], "c": ["b"]}, ["b", "c", "b"]),
    ({"a": ["a"]}, ["a", "a"]),
])
def test_find_cycle_on_tiny_graphs(graph, expected):
    assert find_cycle(graph) == expected


def test_no_import_circle():
    cycle = find_cycle({m: [t for t, _ in targets] for m, targets in GRAPH.items()})
    assert not cycle, "import circle: " + " -> ".join(cycle)


def test_modules_are_short_or_say_why():
    long = []
    for module, path in MODULES.items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and "kept whole" not in doc:
            long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert not long, ("modules past the limit whose docstring does not say why they are kept whole "
                      "(split them, or say 'kept whole: <why>'):\n" + "\n".join(long))
