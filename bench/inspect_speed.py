"""Inspection throughput against a plain SHA-256 of the same safetensors file.

Run: ``python bench/inspect_speed.py [--size-mib 1024] [--rounds 2] [--dir DIR]``.

The file is written by the safetensors library from memory-mapped float32 data
(the library's serializer reads the tensors through their pointers, so nothing
is held whole in memory). Each round times a plain hashlib SHA-256 of the file
and ``inspect_model`` (SHA-256 plus NaN/Inf counts and mean/std/min/max over
every tensor value), each in a fresh child process on a warm page cache; the
parent imports nothing heavy, so each child's peak RSS is its own work's. The last line is one JSON object:
per-round figures, the best of each, their ratio and the peak RSS.
"""

from __future__ import annotations

import os
import sys

# Run as a script: this checkout's packages come first, installed or not.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

TENSOR_MIB = 64
TARGET = 0.8


def write_safetensors(path: Path, size_mib: int) -> None:
    """``size_mib`` of float32 tensors (64 MiB each), via the safetensors library.

    Random values are streamed into a scratch file 64 MiB at a time, then mapped
    and handed to ``save_file`` as ``np.memmap`` views.
    """
    import numpy as np
    from safetensors.numpy import save_file

    count = max(1, size_mib // TENSOR_MIB)
    numel = TENSOR_MIB * 1024 * 1024 // 4
    scratch = path.with_suffix(".raw")
    rng = np.random.default_rng(0)
    with scratch.open("wb") as f:
        for _ in range(count):
            rng.standard_normal(numel, dtype=np.float32).tofile(f)
    data = np.memmap(scratch, dtype="<f4", mode="r", shape=(count, numel))
    try:
        tensors = {f"layer{i}.weight": data[i] for i in range(count)}
        save_file(tensors, str(path), metadata={"bench": "inspect"})
    finally:
        del data
        scratch.unlink()


def child_sha256(path: Path) -> dict[str, object]:
    """hashlib over the file in 4 MiB reads into one reused buffer."""
    started = time.perf_counter()
    h = hashlib.sha256()
    buf = bytearray(4 * 1024 * 1024)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return {"seconds": time.perf_counter() - started, "sha256": h.hexdigest()}


def child_inspect(path: Path) -> dict[str, object]:
    """``inspect_model`` with no statistics budget: every tensor value is read."""
    from integrations.tee.inspect import inspect_model

    started = time.perf_counter()
    report = inspect_model(path, max_tensor_stats_bytes=1 << 62)
    seconds = time.perf_counter() - started
    assert report.weight_stats is not None and report.stats_bytes == report.tensor_bytes
    return {
        "seconds": seconds,
        "sha256": report.sha256,
        "tensors": report.tensor_count,
        "parameters": report.parameter_count,
        "stats_bytes": report.stats_bytes,
        "std": report.weight_stats.std,
    }


def run_child(kind: str, path: Path, *extra: str) -> dict[str, object]:
    """Run one step in a fresh interpreter; return its figures and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-P", __file__, "--child", kind, str(path), *extra],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"the {kind} measurement failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Write the file, time both passes per round on a warm cache, print figures then JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", choices=["write", "sha256", "inspect"], help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "write":
            write_safetensors(args.path, args.size_mib)
            figures: dict[str, object] = {}
        else:
            figures = (child_sha256 if args.child == "sha256" else child_inspect)(args.path)
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.safetensors"
        started = time.perf_counter()
        run_child("write", path, "--size-mib", str(args.size_mib))
        mb = path.stat().st_size / 1e6
        print(f"file          {mb:,.0f} MB written in {time.perf_counter() - started:.1f} s")
        run_child("sha256", path)  # warm the page cache so every pass reads from memory
        rounds = []
        for i in range(args.rounds):
            sha = run_child("sha256", path)
            ins = run_child("inspect", path)
            if ins["sha256"] != sha["sha256"]:
                raise SystemExit("inspect_model's SHA-256 differs from hashlib's")
            row = {
                "sha256_mb_s": round(mb / float(str(sha["seconds"])), 1),
                "inspect_mb_s": round(mb / float(str(ins["seconds"])), 1),
                "sha256_peak_rss_mib": round(float(str(sha["peak_rss_mib"])), 1),
                "inspect_peak_rss_mib": round(float(str(ins["peak_rss_mib"])), 1),
            }
            row["ratio"] = round(row["inspect_mb_s"] / row["sha256_mb_s"], 3)
            rounds.append(row)
            print(
                f"round {i + 1}       sha256 {row['sha256_mb_s']:,} MB/s   "
                f"inspect {row['inspect_mb_s']:,} MB/s   ratio {row['ratio']}   "
                f"peak RSS {row['inspect_peak_rss_mib']} MiB (sha256 alone "
                f"{row['sha256_peak_rss_mib']} MiB)"
            )
    best_sha = max(r["sha256_mb_s"] for r in rounds)
    best_inspect = max(r["inspect_mb_s"] for r in rounds)
    figures = {
        "size_mb": round(mb, 1),
        "tensors": ins["tensors"],
        "parameters": ins["parameters"],
        "stats_bytes": ins["stats_bytes"],
        "rounds": rounds,
        "sha256_mb_s": best_sha,
        "inspect_mb_s": best_inspect,
        "ratio": round(best_inspect / best_sha, 3),
        "target": TARGET,
        "peak_rss_mib": max(r["inspect_peak_rss_mib"] for r in rounds),
        "cpus": os.cpu_count(),
    }
    print(f"best          sha256 {best_sha:,} MB/s   inspect {best_inspect:,} MB/s")
    print(f"ratio         {figures['ratio']} (inspect speed / sha256 speed, target {TARGET})")
    print(f"peak RSS      {figures['peak_rss_mib']} MiB while inspecting {mb:,.0f} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
