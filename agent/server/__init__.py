"""The HTTP API of Satya Agent (``satya serve``): an ASGI app a platform can run or mount.

Example::

    from agent.server import create_app
    app = create_app()   # uvicorn.run(app) — or mount it, see agent.server.app
"""

from agent.server.app import create_app, open_backend
from agent.server.config import ServerSettings

__all__ = ["ServerSettings", "create_app", "open_backend"]
