"""The product's import graph: one-way layers (agent -> flows -> integrations) and no circles.

Every import counts, those inside functions and under ``TYPE_CHECKING`` included: a
module that needs another only lazily still depends on it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "flows", "integrations", "prompts")
# a layer may import only the layers after it
LAYERS = ("agent", "flows", "integrations")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The product modules ``name`` imports (a package's ``__init__`` stands for it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_init(name: str, graph: dict[str, set[str]]) -> bool:
    return any(other.startswith(name + ".") for other in graph)


def test_no_import_circles() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its modules is not a circle of the code
    pruned = {
        name: {t for t in targets if not _is_package_init(t, graph)}
        for name, targets in graph.items()
    }
    assert _cycles(pruned) == []


def test_layers_import_one_way() -> None:
    wrong = []
    for name, targets in _graph().items():
        layer = name.split(".")[0]
        if layer not in LAYERS:
            continue
        above = LAYERS[: LAYERS.index(layer)]
        wrong += [f"{name} -> {t}" for t in targets if t.split(".")[0] in above]
    assert wrong == []


def test_the_finder_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# inside ``agent``, the HTTP server sits on top: only these modules may import it
SERVER_USERS = {
    "agent.cli": {"agent.server.cli"},  # `satya serve`, imported when run
    "agent.settings": {"agent.server.config"},  # ServerSettings, part of the one Settings
}


def test_the_rest_of_agent_does_not_import_the_server() -> None:
    wrong = []
    for name, targets in _graph().items():
        if not name.startswith("agent.") or name.startswith("agent.server"):
            continue
        used = {t for t in targets if t == "agent.server" or t.startswith("agent.server.")}
        wrong += [f"{name} -> {t}" for t in sorted(used - SERVER_USERS.get(name, set()))]
    assert wrong == []


def test_the_server_reaches_the_assistant_only_through_its_door() -> None:
    """The server calls the Assistant's operations; its graph, store and services are the
    Assistant's own (API keys included: ``Assistant.keys``)."""
    around = re.compile(r"assistant\.(graph|store|services)\b")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "agent" / "server").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if around.search(line)
    ]
    assert found == []
