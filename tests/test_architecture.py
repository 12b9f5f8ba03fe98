"""The layering rule of ARCHITECTURE.md, enforced on the import graph of the package.

Every ``import`` in every module counts: module level, inside functions, and under
``TYPE_CHECKING`` (a type is a dependency too). A package may import its own layer or a lower
one, never a higher one, and the packages must not import each other in a circle. The product
reaches the sandbox only through the two commands that start it. Cycles between modules are
reported as well.

The allow-lists below record today's exceptions with their reason. They may only shrink: an
entry that no longer matches an import fails the test, so a fixed edge is removed from the list.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kubectl_trace"

FOUNDATION, CLIENT, DOMAIN, FEATURE, ENTRY = range(5)
LAYER_NAMES = ("foundation", "client", "domain", "feature", "entry")

# The unit of layering: a top-level module or subpackage of kubectl_trace.
LAYERS: dict[str, int] = {
    "kubectl_trace": FOUNDATION,  # the package root: __version__ only
    "kubectl_trace.errors": FOUNDATION,
    "kubectl_trace.textsafe": FOUNDATION,
    "kubectl_trace.safe_console": FOUNDATION,
    "kubectl_trace.timeparse": FOUNDATION,
    "kubectl_trace.userconfig": FOUNDATION,
    "kubectl_trace.environment": FOUNDATION,
    "kubectl_trace.kube": CLIENT,
    "kubectl_trace.health": DOMAIN,
    "kubectl_trace.logs": DOMAIN,
    "kubectl_trace.status": FEATURE,
    "kubectl_trace.release": FEATURE,
    "kubectl_trace.run": FEATURE,
    "kubectl_trace.shell": FEATURE,
    "kubectl_trace.debug": FEATURE,
    "kubectl_trace.dashboard": FEATURE,
    "kubectl_trace.completion": FEATURE,
    "kubectl_trace.sandbox": FEATURE,
    "kubectl_trace.cli": ENTRY,
    "kubectl_trace.__main__": ENTRY,
}

SANDBOX = "kubectl_trace.sandbox"
# The only modules outside the sandbox that may import it: the commands that start it.
SANDBOX_CALLERS = frozenset({"kubectl_trace.cli.cmd_sandbox", "kubectl_trace.cli.cmd_demo"})

# Upward edges that exist today, as (importing module, imported module): none.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}

# Cycles between modules that exist today, each with its reason: none.
ALLOWED_MODULE_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """Every kubectl_trace module `name` imports, wherever the import statement is."""
    known = set(modules)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    resolved: set[str] = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target.startswith("kubectl_trace") and target != name:
            resolved.add(target)
    return resolved


def unit_of(module: str) -> str:
    parts = module.split(".")
    unit = ".".join(parts[:2])
    assert unit in LAYERS, f"{module}: add {unit} to LAYERS in tests/test_architecture.py"
    return unit


@functools.cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the modules it imports; parsed once per test session."""
    modules = all_modules()
    return {name: frozenset(imports_of(name, path, modules)) for name, path in modules.items()}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_every_package_has_a_layer():
    for module in all_modules():
        unit_of(module)


def test_no_upward_edges():
    upward = []
    for source, targets in import_graph().items():
        for target in targets:
            if LAYERS[unit_of(target)] > LAYERS[unit_of(source)]:
                upward.append((source, target))
    unexpected = sorted(set(upward) - set(ALLOWED_UPWARD))
    stale = sorted(set(ALLOWED_UPWARD) - set(upward))
    assert not unexpected, "imports of a higher layer:\n" + "\n".join(
        f"  {s} ({LAYER_NAMES[LAYERS[unit_of(s)]]}) -> {t} ({LAYER_NAMES[LAYERS[unit_of(t)]]})"
        for s, t in unexpected
    )
    assert not stale, "fixed, remove from ALLOWED_UPWARD:\n" + "\n".join(f"  {s} -> {t}" for s, t in stale)


def test_sandbox_reached_only_by_its_commands():
    wrong = sorted(
        (source, target)
        for source, targets in import_graph().items()
        for target in targets
        if unit_of(target) == SANDBOX and unit_of(source) != SANDBOX and source not in SANDBOX_CALLERS
    )
    assert not wrong, "the product imports the sandbox:\n" + "\n".join(f"  {s} -> {t}" for s, t in wrong)


def test_no_cycles_between_packages():
    packages: dict[str, set[str]] = {unit: set() for unit in LAYERS}
    for source, targets in import_graph().items():
        for target in targets:
            if (source, target) in ALLOWED_UPWARD:
                continue
            if unit_of(source) != unit_of(target):
                packages[unit_of(source)].add(unit_of(target))
    found = cycles(packages)
    assert not found, "packages importing each other:\n" + "\n".join(
        "  " + " <-> ".join(sorted(c)) for c in found
    )


def test_no_new_cycles_between_modules():
    found = set(cycles(import_graph()))
    unexpected = found - set(ALLOWED_MODULE_CYCLES)
    stale = set(ALLOWED_MODULE_CYCLES) - found
    assert not unexpected, "modules importing each other:\n" + "\n".join(
        "  " + ", ".join(sorted(c)) for c in unexpected
    )
    assert not stale, "changed or fixed, update ALLOWED_MODULE_CYCLES:\n" + "\n".join(
        "  " + ", ".join(sorted(c)) for c in stale
    )


def test_the_checker_sees_function_level_and_type_only_imports(tmp_path):
    # The rule is only as good as the parser: prove it on a module written for the purpose.
    pkg = tmp_path / "kubectl_trace" / "demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    mod = pkg / "mod.py"
    mod.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kubectl_trace.environment import Environment\n"
        "def f():\n    from ..kube import calls\n    import kubectl_trace.errors\n"
    )
    known = ["kubectl_trace.environment", "kubectl_trace.kube.calls", "kubectl_trace.errors"]
    assert imports_of("kubectl_trace.demo.mod", mod, known) == set(known)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
