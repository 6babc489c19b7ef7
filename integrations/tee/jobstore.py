"""Job records and measured throughput, persisted as small JSON files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MAX_SAMPLES = 20


def job_id_for(idempotency_key: str) -> str:
    """Deterministic job id, so the same key finds the same job after a restart."""
    return "job-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def _write_json(path: Path, value: object) -> None:
    """Write atomically (temp file + rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, sort_keys=True))
    os.replace(tmp, path)


class JobStore:
    """``state_dir/jobs/<id>.json`` records and ``state_dir/throughput.json`` samples."""

    def __init__(self, state_dir: Path) -> None:
        self.jobs = state_dir / "jobs"
        self.jobs.mkdir(parents=True, exist_ok=True)
        self.throughput = state_dir / "throughput.json"

    def load(self, job_id: str) -> dict[str, object] | None:
        """The record of a job, or ``None``."""
        path = self.jobs / f"{job_id}.json"
        try:
            value = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def save(self, record: dict[str, object]) -> None:
        """Persist a record (keyed by its ``job_id``)."""
        _write_json(self.jobs / f"{record['job_id']}.json", record)

    def add_sample(self, nbytes: int, seconds: float) -> None:
        """Remember one job's bytes and seconds (the last 20 are kept)."""
        if nbytes <= 0 or seconds <= 0:
            return
        samples = self._samples()[-(MAX_SAMPLES - 1) :]
        samples.append([nbytes, seconds])
        _write_json(self.throughput, samples)

    def bytes_per_s(self) -> float | None:
        """Measured throughput over the kept samples; ``None`` when nothing was measured."""
        samples = self._samples()
        seconds = sum(s for _, s in samples)
        return sum(b for b, _ in samples) / seconds if seconds > 0 else None

    def mean_seconds(self) -> float | None:
        """Mean duration of the kept jobs; ``None`` when nothing was measured."""
        samples = self._samples()
        return sum(s for _, s in samples) / len(samples) if samples else None

    def _samples(self) -> list[list[float]]:
        """The stored samples, ignoring a damaged file."""
        try:
            value = json.loads(self.throughput.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return []
        if not isinstance(value, list):
            return []
        return [
            [float(v[0]), float(v[1])]
            for v in value
            if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) for x in v)
        ]
