"""Seeded fuzzing of model inspection: mutated real files of every supported format go
through ``satya inspect``'s code (inspect, render, JSON) and the enclave's (fetch, inspect,
score, sign). Each ends in a report or one clear refusal (``InvalidModelFormat``, the
enclave's ``ModelRejected``): never another exception, never over 5 s, and the process's
peak memory stays bounded.

CI size by default; the full campaign:
``SATYA_FUZZ_MODELS=300 SATYA_FUZZ_SEED=20261130 pytest tests/unit/test_fuzz_model_files.py``
(figures in README "Hardening").
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import pickle
import random
import resource
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import gguf
import h5py
import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from torch_files import torch_legacy, torch_pickle, torch_zip

from agent.journey_files import make_model_file
from integrations.errors import SatyaError
from integrations.tee.enclave import Enclave
from integrations.tee.inspect import inspect_model, render_report, report_to_json
from integrations.tee.port import VerificationRequest

PER_SEED = int(os.environ.get("SATYA_FUZZ_MODELS", "20"))
SEED = int(os.environ.get("SATYA_FUZZ_SEED", "20261130"))
MAX_SECONDS = 5.0
MAX_GROWTH_MIB = 512


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _seeds(folder: Path) -> list[Path]:
    """One small real file per format the inspector reads."""
    folder.mkdir(parents=True, exist_ok=True)
    out = [
        make_model_file(folder / "m.safetensors", "safetensors", size_mb=0.02),
        make_model_file(folder / "m.onnx", "onnx", size_mb=0.02),
        make_model_file(folder / "m.h5", "keras_h5", size_mb=0.02),
    ]
    values = np.arange(6, dtype=np.float32).tobytes()
    out.append(torch_zip(folder / "m.pt", torch_pickle(6), values))
    out.append(torch_legacy(folder / "legacy.bin", values, 6))
    writer = gguf.GGUFWriter(str(folder / "m.gguf"), "llama")
    writer.add_name("tiny")
    writer.add_tensor("tok_embd", np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    out.append(folder / "m.gguf")
    out.append(_zip(folder / "saved.zip", {"m/saved_model.pb": b"\x08\x01\x12\x06MatMul" * 4}))
    plain = folder / "m.pkl"
    plain.write_bytes(pickle.dumps({"w": [1.0, 2.0], "n": "x"}, protocol=4))
    out.append(plain)
    x = np.random.RandomState(0).rand(30, 3)
    model = LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int))
    joblib.dump(model, folder / "m.joblib")
    joblib.dump(model, folder / "m.z.joblib", compress=("zlib", 3))
    joblib.dump(model, folder / "m.xz.joblib", compress=("xz", 3))
    out += [folder / "m.joblib", folder / "m.z.joblib", folder / "m.xz.joblib"]
    np.save(folder / "m.npy", np.arange(12.0).reshape(3, 4))
    np.savez(folder / "m.npz", a=np.arange(5), b=np.ones((2, 2), dtype=np.float32))
    out += [folder / "m.npy", folder / "m.npz"]
    with h5py.File(folder / "raw.h5", "w") as f:  # a bare HDF5 file, no Keras config
        f.create_dataset("w", data=np.ones((2, 2), np.float32))
    out.append(folder / "raw.h5")
    return out


INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    """One to four edits: bit flips, interesting bytes, big integers, cuts, copies."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not buf:
            buf = bytearray(rnd.randbytes(rnd.randint(1, 64)))
        kind = rnd.randrange(7)
        at = rnd.randrange(len(buf))
        if kind == 0:
            buf[at] ^= 1 << rnd.randrange(8)
        elif kind == 1:
            buf[at] = rnd.choice(INTERESTING)
        elif kind == 2:  # a huge or negative length where one may be
            value = rnd.choice([2**31 - 1, 2**32 - 1, 2**63 - 1, 2**64 - 1, 0])
            buf[at : at + 8] = value.to_bytes(8, "little")
        elif kind == 3:
            del buf[rnd.randrange(len(buf)) :]
        elif kind == 4:
            end = min(len(buf), at + rnd.randint(1, 256))
            del buf[at:end]
        elif kind == 5:
            end = min(len(buf), at + rnd.randint(1, 256))
            buf[at:at] = buf[at:end] * rnd.randint(1, 8)
        else:
            buf[at:at] = rnd.randbytes(rnd.randint(1, 32))
    return bytes(buf)


def _mutants(seed: Path, rnd: random.Random, count: int) -> list[bytes]:
    data = seed.read_bytes()
    out = [_mutate(data, rnd) for _ in range(count)]
    if zipfile.is_zipfile(seed):  # and the members mutated inside a well-formed zip
        with zipfile.ZipFile(seed) as z:
            members = {n: z.read(n) for n in z.namelist()}
        for _ in range(count // 2):
            name = rnd.choice(sorted(members))
            changed = dict(members, **{name: _mutate(members[name], rnd)})
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for n, d in changed.items():
                    z.writestr(n, d)
            out.append(buf.getvalue())
    return out


def _through_inspect(path: Path) -> None:
    """What ``satya inspect`` does with a file (text and --json)."""
    report = inspect_model(path)
    render_report(report)
    json.dumps(report_to_json(report))


def _enclave(workdir: Path) -> Callable[[Path], None]:
    source: list[Path] = []

    async def fetch(_blob: str, dest: Path) -> None:
        shutil.copyfile(source[0], dest)

    enclave = Enclave(fetch, workdir=workdir)

    def run(path: Path) -> None:
        source[:] = [path]
        asyncio.run(enclave.process(VerificationRequest(model_blob_id="fuzz")))

    return run


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a warning printed into a chat is a bug
def test_mutated_model_files_end_in_a_report_or_a_clear_refusal(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    seeds = _seeds(tmp_path / "seeds")
    through_enclave = _enclave(tmp_path / "enclave")
    start_peak = _peak_mib()
    tried, refused, slowest, problems = 0, 0, (0.0, ""), []
    for seed in seeds:
        for i, data in enumerate(_mutants(seed, rnd, PER_SEED)):
            path = tmp_path / "cases" / f"{i}-{seed.name}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            for way, check in (("inspect", _through_inspect), ("enclave", through_enclave)):
                tried += 1
                began = time.perf_counter()
                try:
                    check(path)
                except SatyaError as error:  # one clear sentence: what is wrong, what to do
                    refused += 1
                    assert error.message and "Traceback" not in error.message
                except Exception as error:
                    kept = tmp_path / "crashes" / path.name
                    kept.parent.mkdir(exist_ok=True)
                    shutil.copyfile(path, kept)
                    problems.append(f"{way} {seed.name} #{i}: {type(error).__name__}: {error}")
                took = time.perf_counter() - began
                slowest = max(slowest, (took, f"{way} {seed.name} #{i}"))
            path.unlink()
    grown = _peak_mib() - start_peak
    print(
        f"model-file fuzzing: {tried} inspections of {len(seeds)} formats' mutants, "
        f"{refused} refused clearly, {len(problems)} crashes, slowest {slowest[0]:.2f} s "
        f"({slowest[1]}), peak memory +{grown:.0f} MiB"
    )
    assert problems == [], "\n".join(problems[:20])
    assert slowest[0] < MAX_SECONDS, slowest
    assert grown < MAX_GROWTH_MIB
