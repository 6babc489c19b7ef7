"""Upload throughput: the chunked uploader against one ``curl -T`` PUT of the same file.

For each size (GiB), writes a file of random bytes, starts ``satya walrus serve``
as its own process on loopback (body limit raised so curl's single PUT fits, a
fresh data directory per measurement), then measures, twice and interleaved:

* the agent's upload (``integrations.storage.chunked.upload_file`` through the
  Walrus HTTP adapter), in a child process whose peak RSS comes from
  ``os.wait4`` (the kernel's ``rusage`` of exactly that child, as
  ``getrusage(RUSAGE_CHILDREN)`` would report it);
* ``curl -T FILE`` as one PUT of the whole file to the same server.

It prints both throughputs, their ratio, the peak RSS and the CPU seconds the
uploader and the server used, and ends with one JSON line::

    {"sizes": ["1 GiB", "4 GiB"], "runs": [...], "min_ratio": ..., "max_peak_rss_mib": ...}

Usage: ``python bench/upload.py [--sizes 1,4] [--chunk-mib 8] [--concurrency 4]``
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
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
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
    await store.aclose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "bytes": result.bytes_sent,
                "peak_rss_kib": usage.ru_maxrss,
                "cpu_s": usage.ru_utime + usage.ru_stime,
            }
        )
    )


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
        "client_cpu_s": usage.ru_utime + usage.ru_stime,
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
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each (default 2)")
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
    print(f"chunks of {args.chunk_mib} MiB, {args.concurrency} in flight; {os.cpu_count()} CPUs")
    runs: list[dict[str, object]] = []
    for label, size in sizes:
        work = Path(tempfile.mkdtemp(prefix="satya-bench-"))
        try:
            src = work / "model.bin"
            make_file(src, size)
            max_body = size + MIB
            for attempt in range(1, args.repeat + 1):
                agent = run_agent(src, work, max_body, args.chunk_mib, args.concurrency)
                curl = run_curl(src, work, max_body)
                ratio = agent["mb_s"] / curl["mb_s"]
                print(
                    f"{label} run {attempt}: agent {agent['mb_s']:7.1f} MB/s "
                    f"({agent['seconds']:.2f} s, peak RSS {agent['peak_rss_mib']:.0f} MiB, "
                    f"CPU client {agent['client_cpu_s']:.1f} s + server "
                    f"{agent['server_cpu_s']:.1f} s) | curl -T {curl['mb_s']:7.1f} MB/s "
                    f"({curl['seconds']:.2f} s, CPU client {curl['client_cpu_s']:.1f} s + server "
                    f"{curl['server_cpu_s']:.1f} s) | ratio {ratio:.3f}"
                )
                runs.append(
                    {
                        "size": label,
                        "run": attempt,
                        "agent_mb_s": round(agent["mb_s"], 1),
                        "curl_mb_s": round(curl["mb_s"], 1),
                        "ratio": round(ratio, 3),
                        "peak_rss_mib": round(agent["peak_rss_mib"], 1),
                        "agent_cpu_s": round(agent["client_cpu_s"], 2),
                        "agent_server_cpu_s": round(agent["server_cpu_s"], 2),
                        "curl_server_cpu_s": round(curl["server_cpu_s"], 2),
                    }
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "sizes": [label for label, _ in sizes],
                "chunk_mib": args.chunk_mib,
                "concurrency": args.concurrency,
                "runs": runs,
                "min_ratio": min(float(str(r["ratio"])) for r in runs),
                "max_peak_rss_mib": max(float(str(r["peak_rss_mib"])) for r in runs),
            }
        )
    )


if __name__ == "__main__":
    main()
