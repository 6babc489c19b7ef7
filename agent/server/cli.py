"""``satya serve`` and ``satya serve keys add|list|revoke``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from agent.home import prepare_home
from agent.persistence import database_url, redact
from agent.server.config import ServerSettings
from agent.settings import Settings
from integrations.errors import SatyaError


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the server, or manage API keys."""
    if getattr(args, "serve_command", None) == "keys":
        return asyncio.run(_keys(args, settings))
    if getattr(args, "serve_command", None) == "build-page":
        return _build_page(settings)
    if args.upload_ttl is not None:
        try:
            server = ServerSettings(
                **{**settings.server.model_dump(), "upload_ttl_h": args.upload_ttl}
            )
        except ValidationError as error:
            print(_config_problem(error), file=sys.stderr)
            return 2
        settings = settings.model_copy(update={"server": server})
    try:
        url = database_url(settings)
    except SatyaError as error:
        print(f"{error.message}\n{error.hint}", file=sys.stderr)
        return 2
    if args.workers > 1 and url is None:
        print(
            "Several workers need a shared database: SQLite serves one process.\n"
            "Set DATABASE_URL=postgresql://… (see README), or run with --workers 1.",
            file=sys.stderr,
        )
        return 2
    if url is not None:  # one paragraph now, not a traceback from every worker's start-up
        from agent.persistence import connection_problem

        problem = asyncio.run(connection_problem(url))
        if problem is not None:
            print(
                f"Cannot reach PostgreSQL at {redact(url)}: {problem}\n"
                "Start PostgreSQL or fix DATABASE_URL; unset it to use SQLite under SATYA_HOME.",
                file=sys.stderr,
            )
            return 2
    prepare_home(settings.home)  # private, and named in one paragraph when it cannot be used
    where = redact(url) if url else f"SQLite under {settings.home}"
    print(f"Satya Agent API on http://{args.host}:{args.port} ({where}); docs at /docs", flush=True)
    return _run_workers(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info" if args.verbose else "warning",
    )


class WorkerConfig(uvicorn.Config):
    """uvicorn's configuration, carrying the Settings every worker builds its app from.

    uvicorn hands this object to each worker process (pickled): the settings travel
    with it, and nothing is written to the environment for the workers to read back.
    """

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__("agent.server.app:create_app", **kwargs)
        self.satya_settings = settings

    def load(self) -> None:
        if not self.loaded:
            from agent.server.app import create_app

            self.app = create_app(self.satya_settings)
        super().load()


def _run_workers(settings: Settings, *, host: str, port: int, workers: int, log_level: str) -> int:
    """uvicorn with ``workers`` processes, each building its app from ``settings``."""
    config = WorkerConfig(
        settings,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=10,
        # longer than clients keep idle connections (httpx: 5 s), so the client closes first
        # and never sends on a connection the server is just closing
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        return 3  # uvicorn's own code for a server that did not start
    return 0


def _build_page(settings: Settings) -> int:
    from agent.server.web import NodeMissing, build_bundle, node_cache

    cache = node_cache(settings)
    try:
        out = build_bundle(cache)
    except (NodeMissing, RuntimeError) as error:
        print(str(error), file=sys.stderr)
        return 2
    print(f"Built {out} (npm packages cached in {cache}); the page is at /ui/.")
    return 0


def _config_problem(error: ValidationError) -> str:
    """A server setting's bad value as one paragraph."""
    where = "; ".join(
        f"SATYA_SERVER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
        for e in error.errors()
    )
    return f"{where}\nFix the value or unset it for the default (see 'satya serve --help')."


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from agent.keys import ApiKeys

    async with ApiKeys.open(settings) as keys:
        if args.keys_command == "add":
            try:
                role = "operator" if getattr(args, "operator", False) else "user"
                key = await keys.add(args.user, label=args.label, role=role)
            except ValueError as error:
                print(str(error), file=sys.stderr)
                return 2
            print(key)
            kind = "Operator API key" if role == "operator" else "API key"
            print(
                f"{kind} for {args.user!r}: shown once, stored only as a hash. "
                "Send it as 'Authorization: Bearer <key>'.",
                file=sys.stderr,
            )
            return 0
        if args.keys_command == "list":
            for entry in await keys.entries():
                role = "  operator" if entry.role == "operator" else ""
                print(f"{entry.id}  {entry.user_id}  …{entry.hint}{role}  {entry.label}")
            return 0
        removed = await keys.revoke(args.key_id)
        print(f"revoked {removed} key(s)")
        return 0 if removed else 1
