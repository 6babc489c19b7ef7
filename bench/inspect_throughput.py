"""Inspection throughput against a plain SHA-256 of the same safetensors file.

Run: ``python bench/inspect.py [--size-mib 1024] [--dir DIR]``. The last line is
one JSON object: inspect_mb_s, sha256_mb_s, ratio, peak_rss_mib.
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib module; keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import struct  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from integrations.tee.inspect import inspect_model  # noqa: E402

TENSOR_MIB = 64


def write_safetensors(path: Path, size_mib: int) -> None:
    """Float32 tensors of 64 MiB each, streamed to disk (never whole in memory)."""
    count = max(1, size_mib // TENSOR_MIB)
    numel = TENSOR_MIB * 1024 * 1024 // 4
    header = {
        f"layer{i}.weight": {
            "dtype": "F32",
            "shape": [numel],
            "data_offsets": [i * numel * 4, (i + 1) * numel * 4],
        }
        for i in range(count)
    }
    raw = json.dumps(header).encode()
    rng = np.random.default_rng(0)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for _ in range(count):
            f.write(rng.standard_normal(numel, dtype=np.float32).tobytes())


def plain_sha256(path: Path) -> float:
    """Seconds for hashlib over the file in 4 MiB blocks."""
    started = time.perf_counter()
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * 1024 * 1024):
            h.update(block)
    return time.perf_counter() - started


def main() -> None:
    """Write the file, time both passes on a warm cache, print figures then JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.safetensors"
        write_safetensors(path, args.size_mib)
        mb = path.stat().st_size / 1e6
        plain_sha256(path)  # warm the page cache so both passes read from memory
        sha_s = plain_sha256(path)
        started = time.perf_counter()
        report = inspect_model(path, max_tensor_stats_bytes=1 << 62)
        inspect_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "size_mb": round(mb, 1),
        "inspect_mb_s": round(mb / inspect_s, 1),
        "sha256_mb_s": round(mb / sha_s, 1),
        "ratio": round(sha_s / inspect_s, 3),
        "peak_rss_mib": round(peak, 1),
        "parameters": report.parameter_count,
    }
    print(f"file          {mb:,.0f} MB, {report.tensor_count} tensors")
    print(f"sha256 only   {figures['sha256_mb_s']:,} MB/s")
    print(f"inspect       {figures['inspect_mb_s']:,} MB/s (stats over {report.stats_bytes:,} B)")
    print(f"ratio         {figures['ratio']} (inspect speed / sha256 speed)")
    print(f"peak RSS      {figures['peak_rss_mib']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
