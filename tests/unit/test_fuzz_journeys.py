"""Seeded fuzzing of journey files: the project's own journeys, mutated as text (lines
dropped, copied, swapped, re-indented, values replaced by odd YAML) and as data (a value
swapped for one of another type), each read by ``load_journey``: a journey or one clear
``UserInputError``, never another exception. A few mutants that still load are run too.

CI size by default; the full campaign:
``SATYA_FUZZ_JOURNEYS=3000 SATYA_FUZZ_JOURNEY_RUNS=20 SATYA_FUZZ_SEED=20261130
pytest tests/unit/test_fuzz_journeys.py`` (figures in README "Hardening").
"""

from __future__ import annotations

import asyncio
import copy
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.journeys import Journey, load_journey, run_journey
from integrations.errors import SatyaError, UserInputError

COUNT = int(os.environ.get("SATYA_FUZZ_JOURNEYS", "300"))
RUNS = int(os.environ.get("SATYA_FUZZ_JOURNEY_RUNS", "1"))
SEED = int(os.environ.get("SATYA_FUZZ_SEED", "20261130"))
JOURNEYS = sorted((Path(__file__).parents[1] / "journeys").glob("*.yaml"))
ODD = [
    "null",
    "~",
    "[]",
    "{}",
    "-1",
    "1e309",
    ".nan",
    "''",
    "../../outside.txt",
    "/etc/passwd",
    "&a x",
    "*a",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!binary aGVsbG8=",
    "[" * 200 + "]" * 200,
    "x" * 50_000,
    "\t",
    "? complex key",
    "2026-11-30",
    "0x" + "f" * 80,
    "yes",
]
VALUES: list[Any] = [None, -1, 0, 10**30, 1.5, "", "x" * 10_000, [], {}, [1, [2, [3]]], True]


def _text_mutant(text: str, rnd: random.Random) -> str:
    lines = text.splitlines() or [""]
    for _ in range(rnd.randint(1, 3)):
        at = rnd.randrange(len(lines))
        kind = rnd.randrange(6)
        if kind == 0 and len(lines) > 1:
            del lines[at]
        elif kind == 1:
            lines.insert(at, lines[at])
        elif kind == 2:
            other = rnd.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == 3:
            lines[at] = " " * rnd.choice([1, 3, 8]) + lines[at]
        elif kind == 4 and ":" in lines[at]:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {rnd.choice(ODD)}"
        else:
            cut = rnd.randrange(len(lines[at]) + 1)
            lines[at] = lines[at][:cut] + rnd.choice(ODD) + lines[at][cut:]
    return "\n".join(lines) + "\n"


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _nodes(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _nodes(v, (*path, i))
    return out


def _data_mutant(text: str, rnd: random.Random) -> str:
    data = yaml.safe_load(text)
    for _ in range(rnd.randint(1, 3)):
        where = rnd.choice(_nodes(data)[1:] or [()])
        if not where:
            data = copy.deepcopy(rnd.choice(VALUES))
            break
        parent = data
        for step in where[:-1]:
            parent = parent[step]
        parent[where[-1]] = copy.deepcopy(rnd.choice(VALUES))  # never shared: no cycles
    return yaml.safe_dump(data)


def test_mutated_journeys_load_or_say_what_is_wrong(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    texts = {p.name: p.read_text() for p in JOURNEYS}
    assert len(texts) >= 30
    tried = refused = 0
    loaded: list[tuple[str, Journey]] = []
    problems: list[str] = []
    slowest = 0.0
    for i in range(COUNT):
        name = rnd.choice(sorted(texts))
        mutate = _text_mutant if i % 2 else _data_mutant
        path = tmp_path / f"{i}-{name}"
        path.write_text(mutate(texts[name], rnd))
        tried += 1
        began = time.perf_counter()
        try:
            journey = load_journey(path)
            loaded.append((path.name, journey))
        except UserInputError as error:
            refused += 1
            assert error.message and error.hint, path.name
            assert "Traceback" not in error.message
        except Exception as error:
            problems.append(f"{path.name}: {type(error).__name__}: {str(error)[:200]}")
            path.rename(tmp_path / f"crash-{path.name}")
            continue
        slowest = max(slowest, time.perf_counter() - began)
        path.unlink()
    ran = 0
    for name, journey in loaded[:RUNS]:
        workdir = tmp_path / "runs" / name
        workdir.mkdir(parents=True)
        try:
            asyncio.run(run_journey(journey, workdir=workdir))
        except SatyaError:
            pass  # said in one paragraph
        except Exception as error:
            problems.append(f"run {name}: {type(error).__name__}: {str(error)[:200]}")
        ran += 1
    print(
        f"journey fuzzing: {tried} mutated journeys, {refused} refused clearly, "
        f"{len(loaded)} loaded, {ran} run, {len(problems)} tracebacks, "
        f"slowest read {slowest:.2f} s"
    )
    assert problems == [], "\n".join(problems[:20])
    assert slowest < 5.0


def test_a_setting_of_the_wrong_kind_is_named_not_a_traceback(tmp_path: Path) -> None:
    """Found by the campaign: ``settings: {mode: null}`` loaded, then the run raised
    pydantic's ValidationError."""
    path = tmp_path / "j.yaml"
    path.write_text("name: j\nsettings: {mode: null}\nturns: [{say: help}]\n")
    journey = load_journey(path)
    with pytest.raises(UserInputError, match=r"settings\.mode is not valid"):
        asyncio.run(run_journey(journey, workdir=tmp_path / "run"))


def test_a_file_size_no_disk_holds_is_refused_when_read(tmp_path: Path) -> None:
    """Found by the campaign: size_mb: 1e30 loaded, then writing the file raised NumPy's
    'array is too big'."""
    path = tmp_path / "j.yaml"
    spec = "[{name: m.safetensors, kind: safetensors, size_mb: 1.0e+30}]"
    path.write_text(f"name: j\nfiles: {spec}\nturns: [{{say: help}}]\n")
    with pytest.raises(UserInputError, match="size_mb"):
        load_journey(path)
