"""Pre-upload path checks: what is wrong with the file, said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.assessment import _check_path
from integrations.errors import FileProblem


def test_an_empty_file_is_called_empty_not_an_unknown_format(tmp_path: Path) -> None:
    # It used to be "not a model format I can verify (its content looks like: unknown)"
    # followed by the conversion guide.
    (tmp_path / "m.safetensors").write_bytes(b"")
    with pytest.raises(FileProblem, match=r"is empty \(0 bytes\)") as caught:
        _check_path(str(tmp_path / "m.safetensors"))
    assert "again" in caught.value.hint


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileProblem, match="is a directory"):
        _check_path(str(tmp_path))
    with pytest.raises(FileProblem, match="There is no file at"):
        _check_path(str(tmp_path / "nope.onnx"))


async def test_a_cut_off_file_is_damaged_before_anything_is_paid(tmp_path: Path) -> None:
    from agent.journey_files import make_model_file
    from flows.assessment import check_model_file

    whole = make_model_file(tmp_path / "whole.safetensors", "safetensors", size_mb=1)
    path, size, fmt = await check_model_file(str(whole))
    assert (path, size, fmt) == (whole, whole.stat().st_size, "safetensors")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(whole.read_bytes()[: size // 2])
    with pytest.raises(
        FileProblem, match=r"cut\.safetensors is damaged: .*more data than the file"
    ):
        await check_model_file(str(cut))


async def test_a_pickle_that_runs_code_is_refused_before_anything_is_paid(tmp_path: Path) -> None:
    from agent.journey_files import make_model_file
    from flows.assessment import check_model_file
    from integrations.errors import DangerousModel

    make_model_file(tmp_path / "evil.pkl", "malicious_pickle", size_mb=0.05)
    with pytest.raises(DangerousModel, match=r"posix\.system") as caught:
        await check_model_file(str(tmp_path / "evil.pkl"))
    assert "Nothing was uploaded or paid" in caught.value.message
    assert "safetensors" in caught.value.hint


async def test_a_plain_pickle_of_numbers_passes_the_check(tmp_path: Path) -> None:
    import pickle

    from flows.assessment import check_model_file

    weights = {"layer.weight": [[0.1, 0.2], [0.3, 0.4]], "layer.bias": [0.0, 0.1]}
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(weights))
    _, size, fmt = await check_model_file(str(tmp_path / "plain.pkl"))
    assert fmt == "pickle" and size > 0


async def test_a_dangerous_pickle_in_auto_mode_costs_nothing_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with no upload question to answer (auto mode), the assessment stops the file:
    the wallet's balance is unchanged, no PendingModel is registered, no blob is stored."""
    from agent import Assistant, Settings, TextEvent
    from agent.journey_files import make_model_file

    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "evil.pkl", "malicious_pickle", size_mb=0.05)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", mode="auto"
    )
    async with Assistant.open(settings) as assistant:
        ledger = assistant.services.ledger
        wallet = await assistant.services.wallet_for(settings.user)
        before = await ledger.balance(wallet.address)
        thread = await assistant.new_thread()
        events = [e async for e in assistant.send(thread, "quick upload evil.pkl")]
        said = "\n".join(e.text for e in events if isinstance(e, TextEvent))
        assert "posix.system" in said and "Nothing was uploaded or paid" in said
        assert await ledger.balance(wallet.address) == before
        assert await ledger.owned_objects(wallet.address, "PendingModel") == []
    stored = [p for p in (tmp_path / "home").rglob("*") if p.is_file() and "blobs" in p.parts]
    assert stored == []
