"""HTTP API under load: many clients, each a scripted 10-turn journey, over real loopback HTTP.

Three set-ups, measured in the same run:
  1. baseline: the same journeys through the in-process ``Assistant`` (no HTTP);
  2. one ``satya serve`` process on SQLite;
  3. ``satya serve --workers 2`` on PostgreSQL (a database created for the run and dropped).
Each client has its own user (API key) and thread and sends its turns one after
another with ``POST /threads/{id}/runs/wait``. Prints turns/s, p50/p99 latency,
errors and the server's peak RSS, the ratio to the baseline, and ends with one
JSON line. The clients run on the same machine: their CPU and the server's are
printed too, and the server's CPU per turn next to the in-process CPU per turn
(the cost of HTTP, auth and the run log without the load generator's share).

    python bench/http_load.py [--clients 200] [--turns 10] [--pg postgresql://…]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: this checkout's packages come first, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from agent.assistant import Assistant
from agent.keys import ApiKeys
from agent.persistence import open_persistence
from agent.settings import Settings

SCRIPT = [
    "hello",
    "help",
    "check status",
    "market analysis",
    "refresh my dashboard",
    "browse models",
    "show raw data",
    "what is Walrus?",
    "I'm an expert",
    "check status",
]
SATYA = str(Path(sys.executable).parent / "satya")


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    rss_mib: float | None = None
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None

    @property
    def turns_per_s(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def summary(self) -> dict[str, object]:
        return {
            "turns_per_s": round(self.turns_per_s, 1),
            "p50_ms": round(self.pct(0.50), 1),
            "p99_ms": round(self.pct(0.99), 1),
            "turns": len(self.latencies),
            "errors": self.errors,
            "server_rss_mib": None if self.rss_mib is None else round(self.rss_mib, 1),
            "error_kinds": self.kinds,
            "server_cpu_s": None if self.server_cpu_s is None else round(self.server_cpu_s, 1),
            "client_cpu_s": None if self.client_cpu_s is None else round(self.client_cpu_s, 1),
            "server_cpu_ms_per_turn": None
            if self.server_cpu_ms_per_turn is None
            else round(self.server_cpu_ms_per_turn, 2),
        }

    @property
    def server_cpu_ms_per_turn(self) -> float | None:
        if self.server_cpu_s is None or not self.latencies:
            return None
        return self.server_cpu_s * 1000 / len(self.latencies)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def _turns(turns: int) -> list[str]:
    return [SCRIPT[i % len(SCRIPT)] for i in range(turns)]


async def in_process(home: Path, clients: int, turns: int) -> Result:
    """The baseline: the same journeys through the Assistant, no HTTP."""
    result = Result("in-process Assistant (SQLite)")
    async with Assistant.open(Settings(home=home)) as assistant:

        async def journey(n: int) -> None:
            user = f"user{n}"
            thread = await assistant.new_thread(user)
            for text in _turns(turns):
                started = time.perf_counter()
                try:
                    events = [e async for e in assistant.send(thread, text, user_id=user)]
                    if any(getattr(e, "code", "") == "internal_error" for e in events):
                        result.error("internal_error")
                except Exception as error:
                    result.error(type(error).__name__)
                result.latencies.append(time.perf_counter() - started)

        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(journey(n) for n in range(clients)))
        result.wall_s = time.perf_counter() - started
        result.server_cpu_s = time.process_time() - cpu
    return result


class LeanConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a load generator that costs
    little CPU (httpx spends about as much CPU per request as the server's HTTP layer, and
    the clients share the machine with the server). ``--client httpx`` uses httpx instead."""

    def __init__(self, url: str) -> None:
        host_port = url.split("://", 1)[1]
        self.host, _, port = host_port.partition(":")
        self.port = int(port or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: object, key: str) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + data)
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def over_http(
    name: str, url: str, keys: list[str], turns: int, pids: list[int], client_kind: str = "lean"
) -> Result:
    result = Result(name)
    limits = httpx.Limits(max_connections=len(keys) + 10, max_keepalive_connections=len(keys))
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

        async def post(
            conn: LeanConnection, path: str, body: object, key: str
        ) -> tuple[int, bytes]:
            if client_kind == "lean":
                return await conn.post(path, body, key)
            r = await client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
            return r.status_code, r.content

        async def journey(key: str) -> None:
            conn = LeanConnection(url)
            try:
                status, body = await post(conn, "/threads", {}, key)
                if status != 200:
                    for _ in range(turns):
                        result.error(f"create thread: {status}")
                    return
                tid = json.loads(body)["thread_id"]
                for text in _turns(turns):
                    started = time.perf_counter()
                    try:
                        status, body = await post(
                            conn, f"/threads/{tid}/runs/wait", {"input": {"message": text}}, key
                        )
                        if status != 200:
                            result.error(f"{status} {body[:120]!r}")
                        elif b'"__error__"' in body:
                            result.error("run error")
                    except (httpx.HTTPError, OSError, ValueError) as error:
                        result.error(type(error).__name__)
                        conn.close()
                        conn = LeanConnection(url)
                    result.latencies.append(time.perf_counter() - started)
            finally:
                conn.close()

        server_cpu = sum(_cpu_s(pid) for pid in _tree(pids))
        client_cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(journey(k) for k in keys))
        result.wall_s = time.perf_counter() - started
        result.client_cpu_s = time.process_time() - client_cpu
        result.server_cpu_s = sum(_cpu_s(pid) for pid in _tree(pids)) - server_cpu
    result.rss_mib = sum(_peak_rss_mib(pid) for pid in _tree(pids))
    return result


def _tree(pids: list[int]) -> list[int]:
    """The processes and their children (uvicorn workers)."""
    out = list(pids)
    for pid in pids:
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            out.extend(_tree([int(c) for c in children]))
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _peak_rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _make_keys(home: Path, url: str | None, clients: int) -> list[str]:
    async with open_persistence(Settings(home=home), url=url) as persistence:
        return [await ApiKeys(persistence.store).add(f"user{n}") for n in range(clients)]


@contextlib.contextmanager
def serve(home: Path, url: str | None, workers: int) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SATYA_DATABASE_URL")}
    env["SATYA_HOME"] = str(home)
    env["SATYA_SERVER_RATE_PER_MINUTE"] = "100000"
    if url:
        env["DATABASE_URL"] = url
    home.mkdir(parents=True, exist_ok=True)
    log_file = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [SATYA, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(
                f"satya serve did not start: {(home / 'serve.log').read_text()[-3000:]}"
            )
        time.sleep(0.2)
    try:
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
        logged = (home / "serve.log").read_text().strip().splitlines()
        if logged[1:]:
            print("  server log (last lines):", *logged[-8:], sep="\n    ")


@contextlib.contextmanager
def scratch_database(base_url: str) -> Iterator[str]:
    import psycopg

    name = f"satya_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(base_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable at {base_url} ({error}); pass --pg URL or --no-pg."
        ) from None
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cpu_ratio(result: Result, baseline: Result) -> float:
    """Server CPU per turn over HTTP / CPU per turn in process (the load generator excluded)."""
    ours, base = result.server_cpu_ms_per_turn, baseline.server_cpu_ms_per_turn
    return ours / base if ours and base else float("nan")


def _print(result: Result, baseline: Result | None) -> None:
    s = result.summary()
    ratio = ""
    if result.errors:
        ratio = "  (FAILED TURNS: these figures are not comparable)"
    elif baseline is not None and baseline.turns_per_s:
        ratio = f"  ({result.turns_per_s / baseline.turns_per_s:.2f}x the in-process rate"
        ratio += f"; server CPU per turn {_cpu_ratio(result, baseline):.2f}x)"
    rss = "" if s["server_rss_mib"] is None else f", server peak RSS {s['server_rss_mib']} MiB"
    rss += f", CPU s: server {s['server_cpu_s']}"
    if s["client_cpu_s"] is not None:
        rss += f", clients {s['client_cpu_s']}"
    print(
        f"{result.name}: {s['turns_per_s']} turns/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, "
        f"{s['turns']} turns, {s['errors']} errors{rss}{ratio}",
        flush=True,
    )


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--turns", type=int, default=10)
    p.add_argument(
        "--pg",
        default=os.environ.get(
            "SATYA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL to create a scratch database in",
    )
    p.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL set-up")
    p.add_argument("--no-sqlite", action="store_true", help="skip the SQLite server set-up")
    p.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="load generator: keep-alive HTTP/1.1 on asyncio streams (lean), or httpx",
    )
    args = p.parse_args()
    print(f"{args.clients} clients x {args.turns} turns: {', '.join(_turns(args.turns))}")
    print(
        f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    out: dict[str, object] = {"clients": args.clients, "turns_per_journey": args.turns}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = await in_process(Path(tmp) / "inproc", args.clients, args.turns)
        _print(baseline, None)
        out["in_process"] = baseline.summary()

        if not args.no_sqlite:
            home = Path(tmp) / "sqlite"
            keys = await _make_keys(home, None, args.clients)
            with serve(home, None, 1) as (base, pid):
                sqlite = await over_http(
                    "satya serve, 1 worker, SQLite", base, keys, args.turns, [pid], args.client
                )
            _print(sqlite, baseline)
            out["http_sqlite"] = _versus(sqlite, baseline)
        if not args.no_pg:
            pg_rates: dict[int, float] = {}
            for workers in (1, 2):
                with scratch_database(args.pg) as url:
                    home = Path(tmp) / f"pg{workers}"
                    keys = await _make_keys(home, url, args.clients)
                    with serve(home, url, workers) as (base, pid):
                        pg = await over_http(
                            f"satya serve, {workers} worker(s), PostgreSQL",
                            base,
                            keys,
                            args.turns,
                            [pid],
                            args.client,
                        )
                _print(pg, baseline)
                out[f"http_postgres_{workers}_workers"] = _versus(pg, baseline)
                pg_rates[workers] = pg.turns_per_s if not pg.errors else 0.0
            if pg_rates.get(1):
                out["scaling_2_workers_postgres"] = round(pg_rates[2] / pg_rates[1], 3)
                print(f"PostgreSQL: 2 workers = {out['scaling_2_workers_postgres']}x one worker")
    errors = sum(int(v["errors"]) for v in out.values() if isinstance(v, dict) and "errors" in v)
    out["errors"] = errors
    one = out.get("http_sqlite")
    if isinstance(one, dict):  # the headline figures: one worker on SQLite
        out["ratio_one_worker"] = one["ratio_to_in_process"]
        out["p99_s"] = round(float(one["p99_ms"]) / 1000, 2)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]  # the shared machine's
    if errors:
        print(f"{errors} turn(s) failed: see the lines above (target: zero errors)", flush=True)
    print(json.dumps(out))
    if errors:
        raise SystemExit(1)


def _versus(result: Result, baseline: Result) -> dict[str, object]:
    """A set-up's figures with its ratios to the in-process baseline (none if turns failed)."""
    ok = not result.errors and baseline.turns_per_s
    return {
        **result.summary(),
        "ratio_to_in_process": round(result.turns_per_s / baseline.turns_per_s, 3) if ok else None,
        "cpu_per_turn_ratio": round(_cpu_ratio(result, baseline), 3) if ok else None,
    }


if __name__ == "__main__":
    asyncio.run(main())
