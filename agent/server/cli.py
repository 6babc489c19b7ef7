"""``satya serve`` and ``satya serve keys add|list|revoke``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from agent.persistence import database_url, redact
from agent.settings import Settings


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the server, or manage API keys."""
    if getattr(args, "serve_command", None) == "keys":
        return asyncio.run(_keys(args, settings))
    if getattr(args, "serve_command", None) == "build-page":
        return _build_page()
    if args.upload_ttl is not None:  # workers are fresh processes: they read it from there
        os.environ["SATYA_SERVER_UPLOAD_TTL_H"] = args.upload_ttl
    problem = _config_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    url = database_url()
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
    import uvicorn

    os.environ["SATYA_HOME"] = str(settings.home)  # workers are fresh processes
    where = redact(url) if url else f"SQLite under {settings.home}"
    print(f"Satya Agent API on http://{args.host}:{args.port} ({where}); docs at /docs", flush=True)
    uvicorn.run(
        "agent.server.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info" if args.verbose else "warning",
        timeout_graceful_shutdown=10,
        # longer than clients keep idle connections (httpx: 5 s), so the client closes first
        # and never sends on a connection the server is just closing
        timeout_keep_alive=30,
    )
    return 0


def _build_page() -> int:
    from agent.server.web import NodeMissing, build_bundle, node_cache

    try:
        out = build_bundle()
    except (NodeMissing, RuntimeError) as error:
        print(str(error), file=sys.stderr)
        return 2
    print(f"Built {out} (npm packages cached in {node_cache()}); the page is at /ui/.")
    return 0


def _config_problem() -> str | None:
    """A server setting's bad value as one paragraph (None when all are fine)."""
    from pydantic import ValidationError

    from agent.server.config import ServerSettings

    try:
        ServerSettings()
    except ValidationError as error:
        where = "; ".join(
            f"SATYA_SERVER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        return f"{where}\nFix the value or unset it for the default (see 'satya serve --help')."
    return None


async def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from agent.persistence import open_persistence
    from agent.server.auth import add_key, list_keys, revoke

    async with open_persistence(settings) as persistence:
        store = persistence.store
        if args.keys_command == "add":
            try:
                key = await add_key(store, args.user, label=args.label)
            except ValueError as error:
                print(str(error), file=sys.stderr)
                return 2
            print(key)
            print(
                f"API key for {args.user!r}: shown once, stored only as a hash. "
                "Send it as 'Authorization: Bearer <key>'.",
                file=sys.stderr,
            )
            return 0
        if args.keys_command == "list":
            for entry in await list_keys(store):
                print(
                    f"{entry['id']}  {entry['user_id']}  …{entry['hint']}  {entry['label'] or ''}"
                )
            return 0
        removed = await revoke(store, args.key_id)
        print(f"revoked {removed} key(s)")
        return 0 if removed else 1
