"""Upload throughput and CPU: the chunked uploader against one ``curl -T`` PUT of the same file.

For each size (GiB), writes a file of random bytes, starts ``satya walrus serve``
as its own process on loopback (body limit raised so curl's single PUT fits, a
fresh data directory per measurement), then measures, ``--repeat`` times (3 by
default) and interleaved (agent, curl, sha256; the order of agent and curl
alternates from one run to the next so neither always finds the warmer cache):

* the agent's upload (``integrations.storage.chunked.upload_file`` through the
  Walrus HTTP adapter), in a child process whose peak RSS comes from
  ``os.wait4`` (the kernel's ``rusage`` of exactly that child). Its CPU is
  counted twice: the upload itself (measured inside the child around
  ``upload_file``) and the whole process (interpreter start and imports too);
* ``curl -T FILE`` as one PUT of the whole file to the same server;
* one sha256 pass over the file's bytes (CPU of the hashing alone), the floor
  that any uploader which hashes what it sends pays on top of moving the bytes.

It prints every run and, per size, the medians; it ends with one JSON line whose
top-level figures are the worst size's medians::

    {"median_ratio": ..., "client_cpu_s_per_gib": ..., "curl_cpu_s_per_gib": ...,
     "sha256_cpu_s_per_gib": ..., "max_peak_rss_mib": ..., "by_size": {...}, "runs": [...]}

Usage: ``python bench/upload.py [--sizes 1,4] [--repeat 3] [--chunk-mib 8] [--concurrency 4]``
"""

from __future__ import annotations

import os
import sys

# Run as a script: this checkout's packages come first, installed or not.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
_TICK = os.sysconf("SC_CLK_TCK")


def make_file(path: Path, size: int) -> None:
    """Incompressible test data, written in 8 MiB pieces."""
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 8 * MIB)
            fh.write(os.urandom(n))
            left -= n


async def child_upload(url: str, path: Path, journal_dir: Path, chunk: int, conc: int) -> None:
    """Run in the child: upload, then print elapsed seconds, CPU seconds and peak RSS."""
    from integrations.storage.chunked import upload_file
    from integrations.storage.walrus import WalrusBlobStore

    store = WalrusBlobStore(url, url, max_blob_size=chunk)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = await upload_file(
        store,
        path,
        journal_dir=journal_dir,
        session_key="bench",
        chunk_size=chunk,
        concurrency=conc,
    )
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    await store.aclose()
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "bytes": result.bytes_sent,
                "peak_rss_kib": usage.ru_maxrss,
                "cpu_s": _rusage_cpu(usage) - _rusage_cpu(before),
            }
        )
    )


def _rusage_cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def sha256_cpu_s(path: Path) -> float:
    """CPU seconds of one sha256 pass over the file's bytes (the hashing alone)."""
    buffer = bytearray(8 * MIB)
    view = memoryview(buffer)
    digest = hashlib.sha256()
    spent = 0.0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            start = time.thread_time()
            digest.update(view[:n])
            spent += time.thread_time() - start
    return spent


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, for the record."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


@contextlib.contextmanager
def walrus_server(data_dir: Path, max_body: int) -> Iterator[tuple[str, int]]:
    """``satya walrus serve`` in its own process; yields (url, pid)."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from agent.cli import main; sys.exit(main())",
            "walrus",
            "serve",
            "--port",
            str(port),
            "--max-body-size",
            str(max_body),
            "--data",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=os.path.dirname(_HERE),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/api", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise SystemExit(f"satya walrus serve did not start: {err}") from None
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_agent(src: Path, work: Path, max_body: int, chunk_mib: int, conc: int) -> dict[str, float]:
    """One agent upload to a fresh server; throughput, RSS and CPU of both sides."""
    data = work / "server-agent"
    journal = work / "journal"
    try:
        with walrus_server(data, max_body) as (url, pid):
            server_cpu = _cpu_s(pid)
            with tempfile.TemporaryFile() as err:
                child = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--chunk-mib",
                        str(chunk_mib),
                        "--concurrency",
                        str(conc),
                        "--child",
                        url,
                        str(src),
                        str(journal),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=err,
                )
                assert child.stdout is not None
                out = child.stdout.read().decode()
                # wait4 gives this child's own resource usage, peak RSS included.
                _, status, usage = os.wait4(child.pid, 0)
                child.returncode = os.waitstatus_to_exitcode(status)
                err.seek(0)
                err_text = err.read().decode(errors="replace")
            server_cpu = _cpu_s(pid) - server_cpu
        if child.returncode != 0:
            raise SystemExit(f"the upload child failed:\n{err_text}")
        stats = json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(journal, ignore_errors=True)
    size = src.stat().st_size
    return {
        "mb_s": size / stats["elapsed_s"] / 1e6,
        "seconds": stats["elapsed_s"],
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "self_reported_rss_mib": stats["peak_rss_kib"] / 1024,
        "client_cpu_s": stats["cpu_s"],
        "process_cpu_s": _rusage_cpu(usage),
        "server_cpu_s": server_cpu,
    }


def run_curl(src: Path, work: Path, max_body: int) -> dict[str, float]:
    """One ``curl -T`` PUT of the whole file to a fresh server."""
    data = work / "server-curl"
    try:
        with walrus_server(data, max_body) as (url, pid):
            server_cpu = _cpu_s(pid)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            curl = subprocess.run(
                [
                    "curl",
                    "-sS",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-T",
                    str(src),
                    f"{url}/v1/blobs",
                ],
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            server_cpu = _cpu_s(pid) - server_cpu
    finally:
        shutil.rmtree(data, ignore_errors=True)
    if curl.returncode != 0 or curl.stdout.strip() != "200":
        raise SystemExit(f"curl upload failed: HTTP {curl.stdout.strip()} {curl.stderr.strip()}")
    return {
        "mb_s": src.stat().st_size / seconds / 1e6,
        "seconds": seconds,
        "client_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "server_cpu_s": server_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1,4", help="file sizes in GiB, comma-separated")
    parser.add_argument("--size-mib", type=int, help="one size in MiB instead (quick runs)")
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each (default 3)")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FILE", "JOURNAL_DIR"))
    args = parser.parse_args()
    chunk = args.chunk_mib * MIB
    if args.child:
        url, file, journal = args.child
        asyncio.run(child_upload(url, Path(file), Path(journal), chunk, args.concurrency))
        return

    if args.size_mib:
        sizes = [(f"{args.size_mib} MiB", args.size_mib * MIB)]
    else:
        sizes = [(f"{s} GiB", int(float(s) * GIB)) for s in args.sizes.split(",") if s.strip()]
    print(
        f"chunks of {args.chunk_mib} MiB, {args.concurrency} in flight; {os.cpu_count()} CPUs; "
        f"load average {load_average()}"
    )
    load_before = load_average()
    runs: list[dict[str, object]] = []
    by_size: dict[str, dict[str, float]] = {}
    for label, size in sizes:
        work = Path(tempfile.mkdtemp(prefix="satya-bench-"))
        gib = size / GIB
        mine: list[dict[str, float]] = []
        try:
            src = work / "model.bin"
            make_file(src, size)
            max_body = size + MIB
            for attempt in range(1, args.repeat + 1):
                if attempt % 2:
                    agent = run_agent(src, work, max_body, args.chunk_mib, args.concurrency)
                    curl = run_curl(src, work, max_body)
                else:
                    curl = run_curl(src, work, max_body)
                    agent = run_agent(src, work, max_body, args.chunk_mib, args.concurrency)
                sha = sha256_cpu_s(src)
                record_run(
                    label,
                    attempt,
                    agent,
                    curl,
                    sha,
                    gib,
                    mine,
                    runs,
                    what="upload",
                    curl_name="curl -T",
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        by_size[label] = medians(mine)
        figures = by_size[label]
        print(
            f"{label} median of {len(mine)}: ratio {figures['median_ratio']:.3f}, CPU "
            f"{figures['client_cpu_s_per_gib']:.2f} s/GiB (process "
            f"{figures['client_process_cpu_s_per_gib']:.2f}) against curl "
            f"{figures['curl_cpu_s_per_gib']:.2f} and one sha256 pass "
            f"{figures['sha256_cpu_s_per_gib']:.2f}; peak RSS {figures['max_peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    print(
        json.dumps(
            {
                **worst(by_size),
                "sizes": [label for label, _ in sizes],
                "repeat": args.repeat,
                "chunk_mib": args.chunk_mib,
                "concurrency": args.concurrency,
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_average(),
                "by_size": by_size,
                "runs": runs,
            }
        )
    )


def record_run(
    label: str,
    attempt: int,
    agent: dict[str, float],
    curl: dict[str, float],
    sha: float,
    gib: float,
    mine: list[dict[str, float]],
    runs: list[dict[str, object]],
    *,
    what: str,
    curl_name: str,
) -> None:
    """Print one interleaved run (the agent against curl) and keep its figures per GiB."""
    ratio = agent["mb_s"] / curl["mb_s"]
    print(
        f"{label} run {attempt}: agent {agent['mb_s']:7.1f} MB/s "
        f"({agent['seconds']:.2f} s, peak RSS {agent['peak_rss_mib']:.0f} MiB, "
        f"CPU {agent['client_cpu_s'] / gib:.2f} s/GiB {what}, "
        f"{agent['process_cpu_s'] / gib:.2f} s/GiB process, server "
        f"{agent['server_cpu_s']:.1f} s) | {curl_name} {curl['mb_s']:7.1f} MB/s "
        f"({curl['seconds']:.2f} s, CPU {curl['client_cpu_s'] / gib:.2f} s/GiB, "
        f"server {curl['server_cpu_s']:.1f} s) | sha256 {sha / gib:.2f} s/GiB "
        f"| ratio {ratio:.3f}",
        flush=True,
    )
    row = {
        "ratio": ratio,
        "client_cpu_s_per_gib": agent["client_cpu_s"] / gib,
        "client_process_cpu_s_per_gib": agent["process_cpu_s"] / gib,
        "curl_cpu_s_per_gib": curl["client_cpu_s"] / gib,
        "sha256_cpu_s_per_gib": sha / gib,
        "peak_rss_mib": agent["peak_rss_mib"],
    }
    mine.append(row)
    runs.append(
        {
            "size": label,
            "run": attempt,
            "agent_mb_s": round(agent["mb_s"], 1),
            "curl_mb_s": round(curl["mb_s"], 1),
            "agent_server_cpu_s": round(agent["server_cpu_s"], 2),
            "curl_server_cpu_s": round(curl["server_cpu_s"], 2),
            **{k: round(v, 3) for k, v in row.items()},
        }
    )


def medians(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-size summary: the median of each figure, and the largest peak RSS."""

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    return {
        "median_ratio": med("ratio"),
        "client_cpu_s_per_gib": med("client_cpu_s_per_gib"),
        "client_process_cpu_s_per_gib": med("client_process_cpu_s_per_gib"),
        "curl_cpu_s_per_gib": med("curl_cpu_s_per_gib"),
        "sha256_cpu_s_per_gib": med("sha256_cpu_s_per_gib"),
        "max_peak_rss_mib": round(max(r["peak_rss_mib"] for r in rows), 1),
    }


def worst(by_size: dict[str, dict[str, float]]) -> dict[str, float]:
    """The top-level figures: across sizes, the lowest ratio and the highest of the rest."""
    sizes = list(by_size.values())
    out = {key: max(s[key] for s in sizes) for key in sizes[0]}
    out["median_ratio"] = min(s["median_ratio"] for s in sizes)
    return out


if __name__ == "__main__":
    main()
