"""A sample journey for a user without a model yet: a small real model file to publish.

The file is written by the safetensors library (a tiny text classifier's weights,
seeded, so the same every time) under ``SATYA_HOME/samples``; the journey then goes
on exactly as for the user's own file: assessment, the upload question, verification,
the listing question. Nothing is paid without a yes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import numpy as np
from langgraph.runtime import Runtime
from langgraph.types import Command

from flows.events import say
from flows.intents import intent
from flows.services import Services
from flows.state import JourneyState

SAMPLE_NAME = "sample-sentiment-classifier.safetensors"


def make_sample_model(folder: Path) -> Path:
    """Write (once) a small sentiment classifier's weights; its path."""
    from safetensors.numpy import save_file

    path = folder / SAMPLE_NAME
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    tensors = {
        "embeddings.weight": (rng.standard_normal((2000, 64)) * 0.02).astype(np.float32),
        "encoder.weight": (rng.standard_normal((64, 64)) * 0.05).astype(np.float32),
        "encoder.bias": np.zeros(64, dtype=np.float32),
        "classifier.weight": (rng.standard_normal((64, 2)) * 0.05).astype(np.float32),
        "classifier.bias": np.zeros(2, dtype=np.float32),
    }
    partial = path.with_suffix(".partial")
    save_file(tensors, str(partial), metadata={"task": "text-classification"})
    partial.replace(path)  # a half-written sample is never taken for one
    return path


async def sample(state: JourneyState, runtime: Runtime[Services]) -> Command[Literal["assess"]]:
    """Node: make the sample model and assess it as if the user had named it."""
    folder = runtime.context.config.home / "samples"
    path = await asyncio.to_thread(make_sample_model, folder)
    say(
        runtime,
        "sample_made",
        expertise=state["expertise"],
        file_name=path.name,
        path=str(path),
        size_bytes=path.stat().st_size,
    )
    return Command(
        goto="assess",
        update={"intent": intent("upload", state["intent"]["text"], paths=[str(path)])},
    )
