"""The guidance screens (tour, checkpoint questions, optimisation, graduation) at each
expertise level, rendered on an 80-column console without colour, against snapshots.

One snapshot file per screen holds its three levels. A change shows up as a diff:
review it, then refresh with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_guidance_screens.py``.
The optimisation figures come from a real Keras file written by h5py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from agent import screens
from agent.events import GateEvent, TextEvent
from agent.journey_files import make_model_file
from agent.replies import render
from flows.optimise import optimisation_plan
from flows.state import OptimisationPlan

SNAPSHOTS = Path(__file__).parent / "snapshots" / "guidance"
LEVELS = ("beginner", "intermediate", "expert")
Data = dict[str, object]

TOUR: dict[str, Data] = {
    "onboarding_welcome": {"step": 1, "of": 5},
    "onboarding_platform_overview": {"step": 2, "of": 5},
    "onboarding_first_upload_guide": {"step": 3, "of": 5},
    "onboarding_verification_explanation": {"step": 4, "of": 5},
    "onboarding_marketplace_introduction": {"step": 5, "of": 5},
    "tour_nav": {"step": 2, "of": 5, "next_title": "your first upload", "first": False},
    "tour_resumed": {"step": 3, "of": 5},
    "tour_skipped": {},
    "onboarding_next": {},
    "welcome_back": {"published": 2},
    "sample_made": {
        "file_name": "sample-sentiment-classifier.safetensors",
        "path": "~/.satya/samples/sample-sentiment-classifier.safetensors",
        "size_bytes": 530_512,
    },
}
GROWTH: dict[str, Data] = {
    "graduated": {"why": "published", "published": 3},
    "verbosity_set": {"direction": "less"},
    "verbosity_limit": {"direction": "more"},
    "checkpoint_done": {"answered": 3, "category": "nlp"},
}
QUESTIONS: dict[str, Data] = {
    "checkpoint_model_type": {"question": "model_type", "number": 1, "default": ""},
    "checkpoint_task": {
        "question": "task",
        "number": 2,
        "default": "sentiment analysis of product reviews",
    },
    "checkpoint_buyers": {"question": "buyers", "number": 3, "default": ""},
    "checkpoint_licence": {"question": "licence", "number": 4, "default": "MIT"},
}


def _render(renderable: object) -> str:
    console = Console(
        file=io.StringIO(),
        width=80,
        color_system=None,
        force_terminal=False,
        legacy_windows=False,
        highlight=False,
        emoji=False,
    )
    console.print(renderable)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _reply(kind: str, data: Data, level: str) -> str:
    full = {**data, "expertise": level}  # as a node sends it
    event = TextEvent(render(kind, full, level), kind, full)
    return _render(screens.reply(event))


def _question(kind: str, data: Data, level: str) -> str:
    full: Data = {**data, "of": 4, "file_name": "review-sentiment.safetensors"}
    return _render(screens.gate(GateEvent("question", render(kind, full, level), full, "i-1")))


def _levels(draw: dict[str, str]) -> str:
    return "\n".join(f"── {level} ──\n{draw[level]}" for level in LEVELS)


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"the {name} screen changed: review, then UPDATE_SNAPSHOTS=1"
    assert all(len(line) <= 80 for line in text.splitlines())
    # every template got its values: "—" is what a missing field renders as
    assert "—" not in text, f"a field of {name} has no value"


@pytest.fixture(scope="module")
def keras_plan(tmp_path_factory: pytest.TempPathFactory) -> OptimisationPlan:
    """The optimisation plan of a real 3 MB Keras .h5 written by h5py."""
    folder = tmp_path_factory.mktemp("keras")
    path = make_model_file(folder / "vision-classifier.h5", "keras_h5", size_mb=3)
    return optimisation_plan(path, "keras_h5", chunk_size=1 << 20)


@pytest.mark.parametrize("kind", sorted({**TOUR, **GROWTH}))
def test_tour_and_growth_screens_at_each_level(kind: str) -> None:
    data = {**TOUR, **GROWTH}[kind]
    _check(kind, _levels({level: _reply(kind, data, level) for level in LEVELS}))


@pytest.mark.parametrize("kind", sorted(QUESTIONS))
def test_checkpoint_question_screens_at_each_level(kind: str) -> None:
    _check(kind, _levels({level: _question(kind, QUESTIONS[kind], level) for level in LEVELS}))


OPTIMISATION = ("compression_recommendation", "optimization_guidance", "optimisation_steps")


@pytest.mark.parametrize("kind", OPTIMISATION)
def test_optimisation_screens_at_each_level(kind: str, keras_plan: OptimisationPlan) -> None:
    data: Data = {**keras_plan, "threshold": 2_000_000, "suggestions": ["export_onnx"]}
    _check(kind, _levels({level: _reply(kind, data, level) for level in LEVELS}))


def test_the_optimised_comparison_and_the_upload_gate_with_the_choice() -> None:
    compared: Data = {
        "file_name": "vision-classifier.onnx",
        "format": "onnx",
        "size_bytes": 1_512_000,
        "cost_frost": 61_000,
        "before_name": "vision-classifier.h5",
        "before_format": "keras_h5",
        "before_bytes": 3_024_484,
        "before_cost_frost": 88_200,
        "saving_pct": 50,
        "still_large": False,
    }
    _check(
        "optimised_comparison",
        _levels({level: _reply("optimised_comparison", compared, level) for level in LEVELS}),
    )
    gate: Data = {
        "file_name": "vision-classifier.h5",
        "size_bytes": 3_024_484,
        "cost_frost": 88_200,
        "chunk_count": 3,
        "epochs": 1,
        "upload_eta_s": 0.1,
        "verify_eta_s": 0.1,
        "optimise": True,
    }
    _check(
        "upload_gate_with_the_choice",
        _levels(
            {
                level: _render(
                    screens.gate(GateEvent("upload", render("upload_gate", gate, level), gate, "i"))
                )
                for level in LEVELS
            }
        ),
    )


def test_the_keras_figures_come_from_its_weights(keras_plan: OptimisationPlan) -> None:
    size = keras_plan["size_bytes"]
    weights = keras_plan["parameter_count"]
    assert keras_plan["float_dtype"] == "float32" and weights > 700_000
    # the float32 weights halve in fp16 and quarter in int8; the rest of the file stays
    assert keras_plan["fp16_bytes"] == size - 2 * weights
    assert keras_plan["int8_bytes"] == size - 3 * weights
    assert keras_plan["onnx_framework"] == "keras"
    assert "tf2onnx.convert --keras vision-classifier.h5" in keras_plan["onnx_command"]
    assert keras_plan["chunk_count"] == 3 and keras_plan["body_limit_bytes"] == 10 * 1024 * 1024
