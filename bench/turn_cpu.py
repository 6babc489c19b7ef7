"""CPU time per turn: in process, over HTTP on SQLite, over HTTP on PostgreSQL.

The machine this runs on is often shared, so wall-clock rates say little; the CPU
a turn costs the process that serves it does not depend on the load around it.
Three set-ups, each running the same journeys (``--clients`` users at once, each
on a fresh thread every ``--per-thread`` turns):

  a. ``Assistant.send`` in this process (``time.process_time``);
  b. ``satya serve`` (one worker, SQLite), ``POST /threads/{id}/runs/wait`` from a
     lean keep-alive client; the server process's user + system CPU from /proc;
  c. the same server on PostgreSQL (a scratch database created and dropped).

Two texts by default: ``market analysis`` alone, and the ten-turn journey of
``bench/http_load.py``. Each figure is the median of ``--rounds`` rounds after a
warm-up. Prints one line per figure and ends with one JSON line. With ``--profile
FILE`` the in-process turns run under cProfile and the stats are written to FILE.

    python bench/turn_cpu.py [--turns 200] [--clients 8] [--no-pg] [--only inproc]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: this checkout's packages come first, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable

from http_load import (
    SCRIPT,
    LeanConnection,
    _cpu_s,
    _make_keys,
    _tree,
    scratch_database,
    serve,
)

from agent.assistant import Assistant
from agent.settings import Settings

Turn = Callable[[int, str, bool], Awaitable[None]]  # (client, text, new thread?)


async def _rounds(
    turn: Turn, texts: list[str], *, clients: int, turns: int, per_thread: int, rounds: int,
    cpu: Callable[[], float],
) -> list[float]:  # fmt: skip
    """CPU ms per turn of each round; ``turns`` per round, spread over ``clients``."""
    each = max(1, turns // clients)
    out = []
    done = [0] * clients

    async def client(n: int) -> None:
        for _ in range(each):
            await turn(n, texts[done[n] % len(texts)], done[n] % per_thread == 0)
            done[n] += 1

    for _ in range(rounds):
        before = cpu()
        await asyncio.gather(*(client(n) for n in range(clients)))
        out.append((cpu() - before) * 1000 / (each * clients))
    return out


async def in_process(
    home: Path, texts: list[str], args: argparse.Namespace, profile: cProfile.Profile | None
) -> list[float]:
    async with Assistant.open(Settings(home=home)) as assistant:  # type: ignore[call-arg]
        threads: dict[int, str] = {}

        async def turn(n: int, text: str, fresh: bool) -> None:
            user = f"user{n}"
            if fresh:
                threads[n] = await assistant.new_thread(user)
            async for _event in assistant.send(threads[n], text, user_id=user):
                pass

        kw = {"clients": args.clients, "per_thread": args.per_thread, "cpu": time.process_time}
        await _rounds(turn, texts, turns=args.warmup, rounds=1, **kw)  # type: ignore[arg-type]
        if profile is not None:
            profile.enable()
        try:
            return await _rounds(turn, texts, turns=args.turns, rounds=args.rounds, **kw)  # type: ignore[arg-type]
        finally:
            if profile is not None:
                profile.disable()


def _backends(url: str) -> list[int]:
    """The pids of the PostgreSQL backends connected to ``url``'s database (root or the
    database's own user can read their CPU in /proc: the database runs on this machine)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(r[0]) for r in rows]


async def over_http(
    home: Path, url: str | None, texts: list[str], args: argparse.Namespace
) -> tuple[list[float], float, float]:
    """Server CPU ms per turn, the server's idle CPU ms per second (its pollers), and the
    database backends' CPU ms per turn (PostgreSQL; 0 for SQLite, which runs in the server)."""
    keys = await _make_keys(home, url, args.clients)
    with serve(home, url, 1) as (base, pid):
        conns = [LeanConnection(base) for _ in keys]
        threads: dict[int, str] = {}
        extra = {"stream_mode": args.stream_mode} if args.stream_mode else {}

        async def turn(n: int, text: str, fresh: bool) -> None:
            if fresh:
                status, body = await conns[n].post("/threads", {}, keys[n])
                if status != 200:
                    raise SystemExit(f"POST /threads answered {status}: {body[:200]!r}")
                threads[n] = json.loads(body)["thread_id"]
            status, body = await conns[n].post(
                f"/threads/{threads[n]}/runs/wait", {"input": {"message": text}, **extra}, keys[n]
            )
            if status != 200 or b'"__error__"' in body:
                raise SystemExit(f"runs/wait answered {status}: {body[:300]!r}")

        def cpu() -> float:
            return sum(_cpu_s(p) for p in _tree([pid]))

        def db_cpu() -> float:  # the PostgreSQL backends serving this server's pool
            return sum(_cpu_s(p) for p in _backends(url)) if url else 0.0

        kw = {"clients": args.clients, "per_thread": args.per_thread, "cpu": cpu}
        await _rounds(turn, texts, turns=args.warmup, rounds=1, **kw)  # type: ignore[arg-type]
        db_before = db_cpu()
        idle_before = cpu()
        await asyncio.sleep(2.0)
        idle_ms_per_s = (cpu() - idle_before) * 1000 / 2.0
        spy = None
        if args.spy:  # py-spy's folded stacks of the server, CPU samples only
            out = args.spy.with_suffix(f".{home.name}.txt")
            where = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
            cmd = [shutil.which("py-spy", path=where) or "py-spy", "record", "--format", "raw"]
            spy = subprocess.Popen([*cmd, "-r", "200", "-o", str(out), "-p", str(pid)])
            await asyncio.sleep(1.0)
        try:
            ms = await _rounds(turn, texts, turns=args.turns, rounds=args.rounds, **kw)  # type: ignore[arg-type]
            db_ms = (
                (db_cpu() - db_before)
                * 1000
                / (args.turns // args.clients * args.clients * args.rounds)
            )
            return ms, idle_ms_per_s, db_ms
        finally:
            for conn in conns:
                conn.close()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=200, help="turns per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=40)
    p.add_argument("--clients", type=int, default=8, help="users sending turns at once")
    p.add_argument("--per-thread", type=int, default=10, help="turns before a fresh thread")
    p.add_argument(
        "--only", choices=("inproc", "sqlite", "postgres"), action="append", help="set-ups to run"
    )
    p.add_argument("--text", action="append", help="texts to time (default: both below)")
    p.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL set-up")
    p.add_argument(
        "--pg",
        default=os.environ.get(
            "SATYA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    p.add_argument(
        "--stream-mode", action="append", help="the runs' stream modes (default: the API's)"
    )
    p.add_argument("--profile", type=Path, help="cProfile the in-process turns into this file")
    p.add_argument("--spy", type=Path, help="py-spy the server into FILE.<set-up>.txt (folded)")
    args = p.parse_args()
    only = set(args.only or ("inproc", "sqlite", "postgres"))
    if args.no_pg:
        only.discard("postgres")
    workloads = {"market_analysis": ["market analysis"], "journey": SCRIPT}
    if args.text:
        workloads = {t.replace(" ", "_"): [t] for t in args.text}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} on {os.cpu_count()} CPUs", flush=True)
    out: dict[str, object] = {"clients": args.clients, "turns": args.turns, "rounds": args.rounds}
    profile = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not waits
    with tempfile.TemporaryDirectory() as tmp:
        for name, texts in workloads.items():
            figures: dict[str, object] = {}
            if "inproc" in only:
                ms = await in_process(Path(tmp) / f"in-{name}", texts, args, profile)
                figures["in_process_cpu_ms"] = round(statistics.median(ms), 2)
                print(f"{name}: in process        {_line(ms)}", flush=True)
            if "sqlite" in only:
                ms, idle, _ = await over_http(Path(tmp) / f"sq-{name}", None, texts, args)
                figures["http_sqlite_cpu_ms"] = round(statistics.median(ms), 2)
                figures["http_sqlite_idle_ms_per_s"] = round(idle, 1)
                print(f"{name}: HTTP, SQLite      {_line(ms)}; idle {idle:.1f} ms/s", flush=True)
            if "postgres" in only:
                with scratch_database(args.pg) as url:
                    ms, idle, db = await over_http(Path(tmp) / f"pg-{name}", url, texts, args)
                figures["http_postgres_cpu_ms"] = round(statistics.median(ms), 2)
                figures["http_postgres_idle_ms_per_s"] = round(idle, 1)
                figures["postgres_backends_cpu_ms"] = round(db, 2)
                print(
                    f"{name}: HTTP, PostgreSQL  {_line(ms)}; idle {idle:.1f} ms/s; "
                    f"database backends {db:.2f} CPU ms per turn",
                    flush=True,
                )
            out[name] = figures
    if profile is not None:
        profile.dump_stats(args.profile)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


def _line(ms: list[float]) -> str:
    rounds = ", ".join(f"{x:.1f}" for x in ms)
    return f"{statistics.median(ms):.2f} CPU ms per turn (rounds: {rounds})"


if __name__ == "__main__":
    asyncio.run(main())
