"""The HTTP API of Satya Agent (``satya serve``): an ASGI app a platform can run or mount.

Example::

    from agent.server import create_app
    app = create_app()   # uvicorn.run(app) — or mount it, see agent.server.app

The app is imported when first named: ``agent.settings`` reads ``ServerSettings``
from this package without loading the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.server.config import ServerSettings

if TYPE_CHECKING:
    from agent.server.app import create_app, open_backend

__all__ = ["ServerSettings", "create_app", "open_backend"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "open_backend"):
        from agent.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'agent.server' has no attribute {name!r}")
