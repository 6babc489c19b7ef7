"""Each package's public API is what its ``__all__`` says (as httpx checks its own).

Every name in ``__all__`` resolves, once, and every public name a package defines is
listed there: nothing listed is missing, nothing defined is left out by accident. A
package without ``__all__`` defines nothing but holds its modules.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("agent", "flows", "integrations", "prompts")
PACKAGES = sorted(
    ".".join(init.parent.relative_to(ROOT).parts)
    for top in PRODUCT
    for init in (ROOT / top).rglob("__init__.py")
)


def _own_public_names(module: types.ModuleType) -> set[str]:
    """Public names the package's ``__init__`` defines itself (functions, classes, values);
    what it imports only to use is not part of its API unless ``__all__`` says so."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if name in ("annotations", "TYPE_CHECKING"):
            continue
        origin = getattr(value, "__module__", None) if callable(value) else module.__name__
        if origin == module.__name__:
            names.add(name)
    return names


def test_every_package_is_checked() -> None:
    assert {"agent", "agent.server", "flows", "integrations", "prompts"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_members(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    own = _own_public_names(module)
    if exported is None:
        assert own == set(), f"{name} has public names but no __all__: {sorted(own)}"
        return
    assert len(set(exported)) == len(exported), f"{name}.__all__ lists a name twice"
    for member in exported:
        assert getattr(module, member, None) is not None, f"{name}.{member} does not resolve"
    assert own <= set(exported), (
        f"{name} exports names missing from __all__: {sorted(own - set(exported))}"
    )


def test_lazy_names_are_the_real_ones() -> None:
    import agent
    from agent.assistant import Assistant
    from agent.server.app import create_app
    from agent.settings import Settings

    assert agent.Assistant is Assistant and agent.Settings is Settings
    import agent.server

    assert agent.server.create_app is create_app
    assert inspect.isclass(agent.server.ServerSettings)
