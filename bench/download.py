"""Verified download throughput and CPU: the buyer's download against curl GETs of the same blobs.

For each size (GiB), writes a file of random bytes, starts ``satya walrus serve``
as its own process on loopback and uploads the file once as chunks plus a
manifest. Then it measures, ``--repeat`` times (3 by default) and interleaved
(the order of agent and curl alternates from one run to the next):

* the agent's verified download (``integrations.storage.chunked.download_file``
  through the Walrus HTTP adapter: chunks fetched in parallel, each chunk's
  digest (BLAKE3, manifest format 2) and the whole file's sha256 checked, the
  file written with bounded memory and fsynced before it is moved into place),
  in a child process whose peak
  RSS comes from ``os.wait4``; its CPU is counted for the download itself
  (measured inside the child) and for the whole process;
* one ``curl`` process fetching the same chunk blobs from the same server, in
  order over one kept-alive connection, into one file (no checks);
* one sha256 pass over the file's bytes (CPU of the hashing alone).

It prints every run and, per size, the medians, and ends with one JSON line
whose top-level figures are the worst size's medians (same keys as
``bench/upload.py``)::

    {"median_ratio": ..., "client_cpu_s_per_gib": ..., "curl_cpu_s_per_gib": ...,
     "sha256_cpu_s_per_gib": ..., "max_peak_rss_mib": ..., "by_size": {...}, "runs": [...]}

Usage: ``python bench/download.py [--sizes 1,4] [--repeat 3] [--chunk-mib 8] [--concurrency 8]``
"""

from __future__ import annotations

import os
import sys

# Run as a script, bench/ is first on sys.path, and its scripts (bench/inspect.py) would
# shadow standard-library modules; put the repository root there instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.upload import (  # noqa: E402
    GIB,
    MIB,
    _cpu_s,
    _rusage_cpu,
    load_average,
    make_file,
    medians,
    record_run,
    sha256_cpu_s,
    walrus_server,
    worst,
)
from integrations.storage.chunked import DOWNLOAD_CONCURRENCY  # noqa: E402


async def child_download(url: str, manifest_id: str, dest: Path, conc: int) -> None:
    """Run in the child: download, then print elapsed seconds, CPU seconds and peak RSS."""
    from integrations.storage.chunked import download_file
    from integrations.storage.walrus import WalrusBlobStore

    store = WalrusBlobStore(url, url)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = await download_file(store, manifest_id, dest, concurrency=conc)
    elapsed = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    await store.aclose()
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "bytes": result.size,
                "peak_rss_kib": usage.ru_maxrss,
                "cpu_s": _rusage_cpu(usage) - _rusage_cpu(before),
            }
        )
    )


async def upload_once(url: str, src: Path, journal: Path, chunk: int) -> list[str]:
    """Store ``src`` as chunks plus a manifest; the manifest's id, then the chunks' ids."""
    from integrations.storage.chunked import upload_file
    from integrations.storage.walrus import WalrusBlobStore

    store = WalrusBlobStore(url, url, max_blob_size=chunk)
    try:
        result = await upload_file(
            store, src, journal_dir=journal, session_key="bench", chunk_size=chunk
        )
    finally:
        await store.aclose()
    return [result.manifest_blob_id, *(c.blob_id for c in result.chunks)]


def run_agent(url: str, manifest_id: str, dest: Path, size: int, conc: int) -> dict[str, float]:
    """One verified download in a child process; throughput, RSS and CPU."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--concurrency",
                str(conc),
                "--child",
                url,
                manifest_id,
                str(dest),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert child.stdout is not None
        out = child.stdout.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        err.seek(0)
        err_text = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the download child failed:\n{err_text}")
    stats = json.loads(out.strip().splitlines()[-1])
    if dest.stat().st_size != size:
        raise SystemExit(f"the agent wrote {dest.stat().st_size} bytes, not {size}")
    return {
        "mb_s": size / stats["elapsed_s"] / 1e6,
        "seconds": stats["elapsed_s"],
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "client_cpu_s": stats["cpu_s"],
        "process_cpu_s": _rusage_cpu(usage),
    }


def run_curl(url: str, chunk_ids: list[str], dest: Path, work: Path, size: int) -> dict[str, float]:
    """One curl process GETting every chunk blob in order into ``dest``."""
    config = work / "curl.conf"
    config.write_text("".join(f'url = "{url}/v1/blobs/{blob_id}"\n' for blob_id in chunk_ids))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(dest, "wb") as out:
        curl = subprocess.run(
            ["curl", "-sS", "--fail", "-K", str(config)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if curl.returncode != 0 or dest.stat().st_size != size:
        raise SystemExit(f"curl download failed: {curl.stderr.strip()}")
    return {
        "mb_s": size / seconds / 1e6,
        "seconds": seconds,
        "client_cpu_s": _rusage_cpu(after) - _rusage_cpu(before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1,4", help="file sizes in GiB, comma-separated")
    parser.add_argument("--size-mib", type=int, help="one size in MiB instead (quick runs)")
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DOWNLOAD_CONCURRENCY,
        help=f"chunks in flight (default {DOWNLOAD_CONCURRENCY}, the buyer's download)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each (default 3)")
    parser.add_argument("--child", nargs=3, metavar=("URL", "MANIFEST_ID", "DEST"))
    args = parser.parse_args()
    if args.child:
        url, manifest_id, dest = args.child
        asyncio.run(child_download(url, manifest_id, Path(dest), args.concurrency))
        return

    chunk = args.chunk_mib * MIB
    if args.size_mib:
        sizes = [(f"{args.size_mib} MiB", args.size_mib * MIB)]
    else:
        sizes = [(f"{s} GiB", int(float(s) * GIB)) for s in args.sizes.split(",") if s.strip()]
    load_before = load_average()
    print(
        f"chunks of {args.chunk_mib} MiB, {args.concurrency} in flight; {os.cpu_count()} CPUs; "
        f"load average {load_before}"
    )
    runs: list[dict[str, object]] = []
    by_size: dict[str, dict[str, float]] = {}
    for label, size in sizes:
        work = Path(tempfile.mkdtemp(prefix="satya-bench-"))
        gib = size / GIB
        mine: list[dict[str, float]] = []
        try:
            src = work / "model.bin"
            make_file(src, size)
            with walrus_server(work / "server", chunk + MIB) as (url, pid):
                manifest_id, *chunk_ids = asyncio.run(
                    upload_once(url, src, work / "journal", chunk)
                )
                dest = work / "copy.bin"
                for attempt in range(1, args.repeat + 1):
                    agent_first = attempt % 2 == 1
                    for which in ("agent", "curl") if agent_first else ("curl", "agent"):
                        server_cpu = _cpu_s(pid)
                        if which == "agent":
                            agent = run_agent(url, manifest_id, dest, size, args.concurrency)
                            agent["server_cpu_s"] = _cpu_s(pid) - server_cpu
                        else:
                            curl = run_curl(url, chunk_ids, dest, work, size)
                            curl["server_cpu_s"] = _cpu_s(pid) - server_cpu
                        dest.unlink()
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
                        what="download",
                        curl_name="curl",
                    )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        by_size[label] = figures = medians(mine)
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


if __name__ == "__main__":
    main()
