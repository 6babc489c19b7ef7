"""A real ``satya serve`` app on loopback (uvicorn in a thread), and an SSE reader."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from pydantic import SecretStr

from agent.assistant import Assistant
from agent.journey_faults import SlowVerifier
from agent.server import ServerSettings, create_app
from agent.server.deps import Backend
from agent.settings import Settings
from agent.wiring import build_services
from integrations.storage.faults import FaultPlan, FaultyBlobStore

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slowed(
    *,
    storage_delay_s: float | None = None,
    verify_min_s: float | None = None,
    lease_ttl_s: float | None = None,
    rescan_s: float | None = None,
) -> Any:
    """An Assistant on the real adapters, slowed: every blob put waits ``storage_delay_s``;
    verification jobs take at least ``verify_min_s`` (the journey's SlowVerifier)."""

    @contextlib.asynccontextmanager
    async def factory(settings: Settings, interpreter: Any) -> AsyncIterator[Assistant]:
        async with contextlib.AsyncExitStack() as stack:
            services = await build_services(settings, stack)
            if storage_delay_s is not None:
                slow = FaultyBlobStore(services.storage, FaultPlan(delay_s=storage_delay_s))
                services = dataclasses.replace(services, storage=slow)
            if verify_min_s is not None:
                verifier = SlowVerifier(services.verifier, verify_min_s)
                services = dataclasses.replace(services, verifier=verifier)
            async with Assistant.open(settings, services=services, interpreter=interpreter) as a:
                if a.monitor is not None and (lease_ttl_s or rescan_s):
                    await a.monitor.stop()
                    a.monitor.lease_ttl_s = lease_ttl_s or a.monitor.lease_ttl_s
                    a.monitor.rescan_s = rescan_s or a.monitor.rescan_s
                    await a.monitor.start()
                yield a

    return factory


class ServerThread:
    """uvicorn serving ``create_app`` in a background thread with its own event loop."""

    def __init__(
        self,
        home: Path,
        config: ServerSettings | None = None,
        *,
        database_url: str | None = None,
        assistant_factory: Any = None,
        settings: Settings | None = None,
        mount: str | None = None,
    ) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # the database is the one named here (None: SQLite under home), whatever the environment
        chosen = SecretStr(database_url) if database_url else None
        base = settings or Settings(home=home)
        self.settings = base.model_copy(update={"database_url": chosen})
        self.app = create_app(
            self.settings,
            config or ServerSettings(),
            assistant_factory=assistant_factory,
        )
        if mount is not None:  # as a platform embeds it: mounted in its own FastAPI app
            from fastapi import FastAPI

            satya = self.app

            def lifespan(_: FastAPI) -> contextlib.AbstractAsyncContextManager[None]:
                return satya.router.lifespan_context(satya)  # type: ignore[return-value]

            self.outer = FastAPI(lifespan=lifespan)
            self.outer.mount(mount, satya)
            self.url += mount
        self.database_url = database_url
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.outer if mount is not None else self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start (see the log above)")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (e.g. to add a key to its store)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    @property
    def backend(self) -> Backend:
        """The running app's backend (the Assistant, its runs and keys)."""
        backend: Backend = self.app.state.satya
        return backend

    def key(self, user: str, *, role: str = "user") -> str:
        """A new API key for ``user``, made through the Assistant's keys."""
        return self.call(self.backend.assistant.keys.add(user, role=role))

    def client(self, user: str | None = None, key: str | None = None) -> httpx.Client:
        headers = {}
        if key is None and user is not None:
            key = self.key(user)
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@dataclass
class Sse:
    event: str
    data: Any
    id: str | None


def read_sse(response: httpx.Response, *, stop_after: int | None = None) -> Iterator[Sse]:
    """Parse an SSE body as it arrives; comments (keep-alives) are skipped."""
    event, ident = "message", None
    data: list[str] = []
    seen = 0
    for line in response.iter_lines():
        if line == "":
            if data:
                yield Sse(event, json.loads("\n".join(data)), ident)
                seen += 1
                if stop_after is not None and seen >= stop_after:
                    return
            event, data, ident = "message", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            ident = value


def stream(
    client: httpx.Client, method: str, path: str, **kwargs: Any
) -> contextlib.AbstractContextManager[httpx.Response]:
    return client.stream(method, path, **kwargs)


def texts(events: list[Sse]) -> list[str]:
    """The reply kinds of the custom text events."""
    return [
        e.data["kind"]
        for e in events
        if e.event == "custom" and isinstance(e.data, dict) and e.data.get("type") == "text"
    ]


def background_verification_server(home: Path) -> ServerThread:
    """A started server whose verifications take at least a second and go on in the
    background at once (no foreground wait), the monitor polling every 0.1 s."""
    settings = Settings(home=home, verify_foreground_s=0, monitor_poll_s=0.1)
    factory = slowed(verify_min_s=1.0)
    return ServerThread(
        home, ServerSettings(), settings=settings, assistant_factory=factory
    ).start()


def slow_run_server(home: Path) -> ServerThread:
    """A started server whose runs last: each stored piece waits 0.2 s and each
    verification at least 4 s (time for other runs to arrive while one is going)."""
    settings = Settings(home=home, chunk_size_mib=0.05, upload_concurrency=1)
    factory = slowed(storage_delay_s=0.2, verify_min_s=4.0)
    return ServerThread(
        home, ServerSettings(), settings=settings, assistant_factory=factory
    ).start()
