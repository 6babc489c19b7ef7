"""Upload throughput: the chunked uploader against one ``curl -T`` PUT of the same file.

Starts the local Walrus-compatible server on loopback (body limit raised so
curl's single PUT fits), uploads a generated file with
``integrations.storage.chunked.upload_file`` in a child process (so its peak RSS
can be measured with ``resource.getrusage``), then PUTs the same file with curl.
The last line printed is one JSON object::

    {"upload_mb_s": ..., "curl_mb_s": ..., "ratio": ..., "peak_rss_mib": ...}

Usage: ``python bench/upload.py --size-mib 1024 --chunk-mib 8 --concurrency 4``
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

from integrations.storage.chunked import upload_file  # noqa: E402
from integrations.storage.server import create_app  # noqa: E402
from integrations.storage.serving import BackgroundServer  # noqa: E402
from integrations.storage.walrus import WalrusBlobStore  # noqa: E402

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    """Incompressible test data, written in 8 MiB pieces."""
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 8 * MIB)
            fh.write(os.urandom(n))
            left -= n


async def child_upload(url: str, path: Path, journal_dir: Path, chunk: int, conc: int) -> None:
    """Run in the child: upload, then print elapsed seconds and peak RSS."""
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
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"elapsed_s": elapsed, "bytes": result.bytes_sent, "peak_rss_kib": peak_kib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", nargs=3, metavar=("URL", "FILE", "JOURNAL_DIR"))
    args = parser.parse_args()
    chunk = args.chunk_mib * MIB
    if args.child:
        url, file, journal = args.child
        asyncio.run(child_upload(url, Path(file), Path(journal), chunk, args.concurrency))
        return

    size = args.size_mib * MIB
    work = Path(tempfile.mkdtemp(prefix="satya-bench-"))
    try:
        src = work / "model.bin"
        make_file(src, size)
        app = create_app(data_dir=work / "server", max_body_size=size + MIB)
        with BackgroundServer(app) as server:
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--chunk-mib",
                    str(args.chunk_mib),
                    "--concurrency",
                    str(args.concurrency),
                    "--child",
                    server.url,
                    str(src),
                    str(work / "journal"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            stats = json.loads(child.stdout.strip().splitlines()[-1])
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
                    f"{server.url}/v1/blobs",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            curl_s = time.perf_counter() - start
        if curl.stdout.strip() != "200":
            raise SystemExit(f"curl upload failed with HTTP {curl.stdout.strip()}")
        upload_mb_s = size / stats["elapsed_s"] / 1e6
        curl_mb_s = size / curl_s / 1e6
        print(
            f"file: {args.size_mib} MiB, chunks of {args.chunk_mib} MiB, "
            f"concurrency {args.concurrency}"
        )
        print(f"chunked uploader: {upload_mb_s:8.1f} MB/s ({stats['elapsed_s']:.2f} s)")
        print(f"curl -T one PUT:  {curl_mb_s:8.1f} MB/s ({curl_s:.2f} s)")
        print(
            json.dumps(
                {
                    "upload_mb_s": round(upload_mb_s, 1),
                    "curl_mb_s": round(curl_mb_s, 1),
                    "ratio": round(upload_mb_s / curl_mb_s, 3),
                    "peak_rss_mib": round(stats["peak_rss_kib"] / 1024, 1),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
