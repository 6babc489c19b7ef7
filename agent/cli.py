"""``satya``: chat, scripted journeys, model inspection, the HTTP API, local Walrus, enclave and model servers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.home import private_umask
from integrations.errors import SatyaError

if TYPE_CHECKING:
    from agent.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="satya",
        description="Satya Agent: publish AI models on Sui (Walrus storage, TEE verification, "
        "marketplace listing). Runs offline on embedded defaults; see README for settings.",
    )
    p.add_argument("--home", type=Path, help="data directory (default: $SATYA_HOME or ~/.satya)")
    p.add_argument("--verbose", "-v", action="store_true", help="show details and logs")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser(
        "chat",
        help="chat in the terminal",
        description="Chat in the terminal. On a terminal: rich screens, live progress bars, "
        "history and completion (/help lists the commands). In a pipe: plain lines, e.g. "
        "echo 'check status' | satya chat.",
    )
    chat.add_argument("--thread", help="continue this conversation id")
    chat.add_argument("--new", action="store_true", help="start a new conversation")
    chat.add_argument("--user", help="user id (default: $SATYA_USER or 'local')")
    chat.add_argument("--mode", choices=["supervised", "auto", "debug"], help="approval mode")
    chat.add_argument(
        "--plain",
        action="store_true",
        help="plain lines even on a terminal (no screens, no prompt)",
    )
    chat.add_argument(
        "--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="show details"
    )

    journey = sub.add_parser("journey", help="scripted journeys")
    jsub = journey.add_subparsers(dest="journey_command", required=True)
    run = jsub.add_parser(
        "run", help="run journey YAML files; exit 0 only if every expectation holds"
    )
    run.add_argument("files", nargs="+", type=Path)

    inspect = sub.add_parser("inspect", help="inspect a model file safely (never runs its code)")
    inspect.add_argument("path", type=Path)
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")

    walrus = sub.add_parser("walrus", help="local Walrus-compatible publisher + aggregator")
    wsub = walrus.add_subparsers(dest="walrus_command", required=True)
    ws = wsub.add_parser("serve", help="serve PUT/GET /v1/blobs on loopback")
    ws.add_argument("--host", default="127.0.0.1")
    ws.add_argument("--port", type=_port, default=31415)
    ws.add_argument("--data", type=Path, help="blob directory (default: $SATYA_HOME/walrus)")
    ws.add_argument(
        "--max-body-size", type=int, default=10 * 1024 * 1024, help="bytes per PUT (413 above)"
    )
    ws.add_argument(
        "--wal-balance", type=int, default=None, help="WAL balance in FROST (default: unlimited)"
    )
    ws.add_argument(
        "--exact-blob-ids",
        action="store_true",
        help="compute real RS2 blob ids (slow); default: fast content-derived ids",
    )

    enclave = sub.add_parser("enclave", help="local Nautilus-style enclave server")
    esub = enclave.add_subparsers(dest="enclave_command", required=True)
    es = esub.add_parser("serve", help="serve /, /health_check, /get_attestation, /process_data")
    es.add_argument("--host", default="127.0.0.1")
    es.add_argument("--port", type=_port, default=3000)
    es.add_argument(
        "--schema",
        choices=("satya-agent", "satya"),
        default="satya-agent",
        help="what /process_data signs: the product's MLQualityResponse (default) or "
        "Satya's ml-marketplace one (figures it cannot express are sent as 0)",
    )

    llm = sub.add_parser("llm", help="a small local language model (after: make local-model)")
    lsub = llm.add_subparsers(dest="llm_command", required=True)
    ls = lsub.add_parser(
        "serve",
        help="serve it as an OpenAI-compatible endpoint (OPENAI_MODEL=local)",
        description="Serve Gemma 3 270M with llama.cpp at http://HOST:PORT/v1; then set "
        "OPENAI_BASE_URL=http://HOST:PORT/v1 OPENAI_MODEL=local. Needs: make local-model.",
    )
    ls.add_argument("--host", default="127.0.0.1")
    ls.add_argument("--port", type=_port, default=8080)

    faucet = sub.add_parser(
        "faucet", help="SUI for a wallet on the local ledger (50 SUI unless --sui)"
    )
    faucet.add_argument("--user", help="whose wallet (default: $SATYA_USER or 'local')")
    faucet.add_argument("--sui", metavar="AMOUNT", help="how much, e.g. 25 or 2.5 (default 50)")
    ins = sub.add_parser(
        "insights", help="where journeys fail, slowest steps, retries, money per phase"
    )
    ins.add_argument("--user", help="whose journeys (default: $SATYA_USER or 'local')")
    ins.add_argument("--all", action="store_true", help="every user's journeys (the platform)")
    ins.add_argument("--json", action="store_true", help="the figures as JSON")
    serve = sub.add_parser(
        "serve", help="the HTTP API (threads, runs, SSE); DATABASE_URL=postgresql://… to share"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8123)
    serve.add_argument("--workers", type=int, default=1, help="processes (PostgreSQL for > 1)")
    serve.add_argument(
        "--upload-ttl",
        metavar="HOURS",
        help="keep an uploaded file this long after its last use (default 24; "
        "0 or 'never': keep uploads for ever; env SATYA_SERVER_UPLOAD_TTL_H)",
    )
    ssub = serve.add_subparsers(dest="serve_command")
    ssub.add_parser(
        "build-page",
        help="build the embedding page's JavaScript (LangGraph's JS client; needs node and npm)",
    )
    keys = ssub.add_parser("keys", help="API keys (stored hashed)")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    kadd = ksub.add_parser("add", help="create a key for USER and print it once")
    kadd.add_argument("user")
    kadd.add_argument("--label", default="")
    kadd.add_argument(
        "--operator",
        action="store_true",
        help="an operator key: also reads platform-wide figures (GET /insights/platform)",
    )
    ksub.add_parser("list", help="list keys (owner, label, last 4 characters)")
    krev = ksub.add_parser("revoke", help="revoke keys by id (from 'list') or by user")
    krev.add_argument("key_id")
    return p


def _port(text: str) -> int:
    """A TCP port number, refused by argparse (one line, no traceback) when out of range."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _settings(args: argparse.Namespace) -> Settings:
    from agent.settings import Settings

    overrides: dict[str, Any] = {}
    if args.home:
        overrides["home"] = args.home
    if getattr(args, "user", None):
        overrides["user"] = args.user
    if getattr(args, "mode", None):
        overrides["mode"] = args.mode
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``satya`` console script."""
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare `satya`: what it can do
        parser.print_help()
        print("\nStart with: satya chat", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    private_umask()  # what satya writes (checkpoints, models, downloads) is its user's alone
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError

    try:
        return _dispatch(args)
    except SatyaError as error:
        print(f"{error.message}\n{error.hint}", file=sys.stderr)
        return 2
    except ValidationError as error:  # only Settings() lets one out: a setting's bad value
        from agent.settings import settings_problem

        print(settings_problem(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `satya inspect FILE | head`: the reader has all it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "chat":
        return _chat(args)
    if args.command == "journey":
        return _journeys(args.files)
    if args.command == "inspect":
        return _inspect(args.path, as_json=args.json)
    if args.command == "walrus":
        from integrations.storage.server import run_server

        settings = _settings(args)
        data = args.data or settings.home / "walrus"
        run_server(
            host=args.host,
            port=args.port,
            data_dir=data,
            max_body_size=args.max_body_size,
            exact_blob_ids=args.exact_blob_ids,
            wal_balance_frost=args.wal_balance,
        )
        return 0
    if args.command == "enclave":
        return _enclave(args)
    if args.command == "llm":
        from agent.local_model import serve

        return serve(host=args.host, port=args.port)
    if args.command == "faucet":
        from agent.faucet import faucet, parse_sui

        settings = _settings(args)
        mist = parse_sui(args.sui) if args.sui is not None else None
        print(asyncio.run(faucet(settings, user=args.user or settings.user, mist=mist)))
        return 0
    if args.command == "insights":
        from agent.insights import insights_command

        settings = _settings(args)
        user = None if args.all else (args.user or settings.user)
        print(asyncio.run(insights_command(settings, user=user, as_json=args.json)))
        return 0
    if args.command == "serve":
        from agent.server.cli import serve_command

        return serve_command(args, _settings(args))
    raise AssertionError(args.command)


def _chat(args: argparse.Namespace) -> int:
    from agent.repl import run_chat

    settings = _settings(args)  # a bad value is reported by main(), without a traceback
    return asyncio.run(
        run_chat(
            settings,
            thread=args.thread,
            new=args.new,
            verbose=args.verbose,
            interface="plain" if args.plain else "auto",
        )
    )


def _journeys(files: list[Path]) -> int:
    from agent.journeys import load_journey, run_journey

    failed = unreadable = 0
    for path in files:
        try:
            journey = load_journey(path)
        except SatyaError as error:  # one bad file fails alone; the others still run
            print(f"{error.message}\n{error.hint}", file=sys.stderr)
            failed += 1
            unreadable += 1
            continue
        report = asyncio.run(run_journey(journey))
        print(report.summary())
        failed += 0 if report.ok else 1
    if len(files) > 1:
        print(f"{len(files) - failed} journeys passed, {failed} failed")
    return 2 if unreadable else 1 if failed else 0


def _inspect(path: Path, *, as_json: bool) -> int:
    from integrations.tee.inspect import inspect_model, render_report, report_to_json

    report = inspect_model(path)
    print(json.dumps(report_to_json(report), indent=2) if as_json else render_report(report))
    return 1 if report.dangerous else 0


def _enclave(args: argparse.Namespace) -> int:
    from agent.wiring import build_storage
    from integrations.storage.chunked import download_file
    from integrations.tee.enclave import Enclave
    from integrations.tee.schemas import PRODUCT, SATYA
    from integrations.tee.server import run_server

    settings = _settings(args)
    storage = build_storage(settings)

    async def fetch(blob_id: str, dest: Path) -> None:
        await download_file(storage, blob_id, dest)

    schema = SATYA if args.schema == "satya" else PRODUCT
    enclave = Enclave(fetch, workdir=settings.home / "enclave-server", response_schema=schema)
    run_server(host=args.host, port=args.port, enclave=enclave)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
