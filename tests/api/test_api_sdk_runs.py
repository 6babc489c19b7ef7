"""LangGraph's client (langgraph-sdk) for runs beyond one at a time: stateless runs on a
temporary thread, and ``multitask_strategy`` enqueue, interrupt and rollback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from api_harness import ServerThread, slow_run_server, slowed
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import MultitaskStrategy

from agent.journey_files import make_model_file
from agent.server import ServerSettings
from agent.settings import Settings


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = slow_run_server(tmp_path_factory.mktemp("sdk-slow"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def slow_poll_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A queued run looks for its turn every 5 s: it stays pending a while after the run
    before it has ended."""
    home = tmp_path_factory.mktemp("sdk-slow-poll")
    settings = Settings(home=home, chunk_size_mib=0.05, upload_concurrency=1)
    srv = ServerThread(
        home,
        ServerSettings(run_poll_s=5.0),
        settings=settings,
        assistant_factory=slowed(storage_delay_s=0.2),
    ).start()
    yield srv
    srv.stop()


async def _until(check: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def test_stateless_runs_use_a_temporary_thread(server: ServerThread) -> None:
    key = server.key("sdk-stateless")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)

        async def no_threads() -> bool:
            return await client.threads.count() == 0

        values: Any = await client.runs.wait(None, "satya", input={"message": "market analysis"})
        assert values["messages"][0]["content"] == "market analysis"
        assert len(values["messages"]) >= 2
        await _until(no_threads, "the temporary thread is deleted")

        parts = [
            p
            async for p in client.runs.stream(
                None, "satya", input={"message": "help"}, stream_mode="custom"
            )
        ]
        assert parts[0].event == "metadata" and parts[-1].event == "end"
        assert any(p.event == "custom" for p in parts)
        await _until(no_threads, "the streamed run's thread is deleted")

        run = await client.runs.create(None, "satya", input={"message": "check status"})
        assert run["status"] in ("pending", "running", "success")
        await _until(no_threads, "the background run's thread is deleted")

        kept: Any = await client.runs.wait(
            None, "satya-auto", input={"message": "hello"}, on_completion="keep"
        )
        assert kept["mode"] == "auto"
        threads: list[Any] = await client.threads.search()
        assert [t["values"]["mode"] for t in threads] == ["auto"]

        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.wait(None, "nobody", input={"message": "hello"})
        assert caught.value.response.json()["code"] == "assistant_not_found"
        assert await client.threads.count() == 1  # no thread left behind by the refusal

    asyncio.run(scenario())


async def _at_upload_gate(client: LangGraphClient, srv: ServerThread, key: str, model: Path) -> str:
    with srv.client(key=key) as c, model.open("rb") as fh:
        upload = c.post("/uploads", files={"file": (model.name, fh)}).json()
    tid = (await client.threads.create())["thread_id"]
    values: Any = await client.runs.wait(
        tid, "satya", input={"message": "upload", "upload_id": upload["upload_id"]}
    )
    assert values["__interrupt__"][0]["value"]["gate"] == "upload"
    return str(tid)


async def _when_verifying(client: LangGraphClient, tid: str, run_id: str) -> None:
    """Follow the run until the upload step is done and verification is under way."""
    async for part in client.runs.join_stream(tid, run_id, stream_mode="custom"):
        data = cast(Any, part.data)
        if part.event == "custom" and data.get("kind") == "verification_submitted":
            return
    raise AssertionError("the run ended before verification started")


def test_multitask_enqueue_interrupt_and_rollback(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    key = slow_server.key("sdk-multitask")
    model = make_model_file(tmp_path / "slow.safetensors", "safetensors", size_mb=0.3)

    async def scenario() -> None:
        client = get_client(url=slow_server.url, api_key=key)

        # reject (the default): 409
        tid = await _at_upload_gate(client, slow_server, key, model)
        first = await client.runs.create(tid, "satya", command={"resume": "yes"})
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.create(tid, "satya", input={"message": "check status"})
        assert caught.value.response.status_code == 409
        assert "multitask_strategy" in caught.value.response.json()["hint"]

        # enqueue: answered at once with a pending run, which runs after the first one
        # (and the runs queued before it) has finished, in the order they were sent
        began = time.monotonic()
        queued = await client.runs.create(
            tid, "satya", input={"message": "check status"}, multitask_strategy="enqueue"
        )
        queued2 = await client.runs.create(
            tid, "satya", input={"message": "help"}, multitask_strategy="enqueue"
        )
        dropped = await client.runs.create(
            tid, "satya", input={"message": "market analysis"}, multitask_strategy="enqueue"
        )
        assert time.monotonic() - began < 3.0  # the first run takes over 4 s
        assert queued["status"] == queued2["status"] == "pending"
        assert (await client.runs.get(tid, first["run_id"]))["status"] == "running"
        assert (await client.runs.get(tid, queued["run_id"]))["status"] == "pending"
        await client.runs.cancel(tid, dropped["run_id"])  # a queued run can be cancelled
        assert (await client.runs.get(tid, dropped["run_id"]))["status"] == "interrupted"
        last: Any = await client.runs.join(tid, queued2["run_id"])
        statuses = [(await client.runs.get(tid, r["run_id"]))["status"] for r in (first, queued)]
        assert statuses == ["success", "success"]
        said = [m["content"] for m in last["messages"] if m["type"] == "human"]
        assert said[-3:] == ["yes", "check status", "help"]
        assert "market analysis" not in said

        # interrupt: the running one stops (its finished steps kept), the new one runs
        tid = await _at_upload_gate(client, slow_server, key, model)
        running = await client.runs.create(
            tid, "satya", command={"resume": "yes"}, stream_mode=["custom", "values"]
        )
        await _when_verifying(client, tid, running["run_id"])
        after: Any = await client.runs.wait(
            tid, "satya", input={"message": "check status"}, multitask_strategy="interrupt"
        )
        assert (await client.runs.get(tid, running["run_id"]))["status"] == "interrupted"
        assert "chunked_upload" in after["completed_steps"]  # kept

        # rollback: the running one stops and the thread returns to before it
        tid = await _at_upload_gate(client, slow_server, key, model)
        before: Any = await client.threads.get_state(tid)
        running = await client.runs.create(
            tid, "satya", command={"resume": "yes"}, stream_mode=["custom", "values"]
        )
        await _when_verifying(client, tid, running["run_id"])
        during: Any = await client.threads.get_state(tid)
        assert "chunked_upload" in during["values"]["completed_steps"]
        await client.runs.wait(
            tid, "satya", input={"message": "check status"}, multitask_strategy="rollback"
        )
        with pytest.raises(httpx.HTTPStatusError) as caught:  # deleted, as LangGraph does
            await client.runs.get(tid, running["run_id"])
        assert caught.value.response.status_code == 404
        assert running["run_id"] not in {r["run_id"] for r in await client.runs.list(tid)}
        history: Any = await client.threads.get_history(tid, limit=50)
        forks = [h for h in history if h["metadata"].get("source") == "fork"]
        assert forks, "the thread was put back to a copy of its earlier checkpoint"
        assert forks[0]["values"]["completed_steps"] == before["values"]["completed_steps"]
        assert "chunked_upload" not in forks[0]["values"]["completed_steps"]
        now: Any = await client.threads.get_state(tid)
        assert "chunked_upload" not in now["values"]["completed_steps"]

    asyncio.run(scenario())


def test_cancel_many_stops_runs_by_id_thread_or_status(
    slow_server: ServerThread, tmp_path: Path
) -> None:
    key = slow_server.key("sdk-cancel-many")
    model = make_model_file(tmp_path / "slow.safetensors", "safetensors", size_mb=0.3)

    async def scenario() -> None:
        client = get_client(url=slow_server.url, api_key=key)

        # every active run of a thread: the running one and the one queued after it
        tid = await _at_upload_gate(client, slow_server, key, model)
        running = await client.runs.create(tid, "satya", command={"resume": "yes"})
        queued = await client.runs.create(
            tid, "satya", input={"message": "help"}, multitask_strategy="enqueue"
        )
        await client.runs.cancel_many(thread_id=tid)
        statuses = [(await client.runs.get(tid, r["run_id"]))["status"] for r in (running, queued)]
        assert statuses == ["interrupted", "interrupted"]
        thread: Any = await client.threads.get(tid)
        said = [m["content"] for m in thread["values"]["messages"]]
        assert "help" not in said  # the queued run never started

        # by id, rolled back: the thread returns to the upload question and the run is gone
        tid = await _at_upload_gate(client, slow_server, key, model)
        running = await client.runs.create(
            tid, "satya", command={"resume": "yes"}, stream_mode=["custom", "values"]
        )
        await _when_verifying(client, tid, running["run_id"])
        await client.runs.cancel_many(thread_id=tid, run_ids=[running["run_id"]], action="rollback")
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.get(tid, running["run_id"])
        assert caught.value.response.status_code == 404
        state: Any = await client.threads.get_state(tid)
        assert "chunked_upload" not in state["values"]["completed_steps"]
        # the upload question is pending again, as before the run: answered, the run goes on
        assert [i["value"]["gate"] for i in state["interrupts"]] == ["upload"]
        assert (await client.threads.get(tid))["status"] == "interrupted"
        again: Any = await client.runs.wait(tid, "satya", command={"resume": "yes"})
        assert "chunked_upload" in again["completed_steps"]

        # every running run of the caller, across threads
        tid = await _at_upload_gate(client, slow_server, key, model)
        other = await _at_upload_gate(client, slow_server, key, model)
        a = await client.runs.create(tid, "satya", command={"resume": "yes"})
        b = await client.runs.create(other, "satya", command={"resume": "yes"})
        await _until(lambda: _all_running(client, [(tid, a), (other, b)]), "both runs are running")
        await client.runs.cancel_many(status="running")
        assert (await client.runs.get(tid, a["run_id"]))["status"] == "interrupted"
        assert (await client.runs.get(other, b["run_id"]))["status"] == "interrupted"

        stranger = get_client(url=slow_server.url, api_key=slow_server.key("sdk-cancel-other"))
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await stranger.runs.cancel_many(thread_id=tid, run_ids=[a["run_id"]])
        assert caught.value.response.json()["code"] == "not_found"
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.cancel_many()
        body = caught.value.response.json()
        assert (caught.value.response.status_code, body["code"]) == (400, "nothing_to_cancel")

    asyncio.run(scenario())


async def _all_running(client: LangGraphClient, runs: list[tuple[str, Any]]) -> bool:
    statuses = [(await client.runs.get(tid, run["run_id"]))["status"] for tid, run in runs]
    return statuses == ["running"] * len(runs)


def test_a_run_shows_the_strategy_and_assistant_it_was_sent_with(server: ServerThread) -> None:
    key = server.key("sdk-strategy")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]
        sent: list[tuple[str, str]] = []
        tried: list[tuple[MultitaskStrategy, str]] = [
            ("interrupt", "satya-auto"),
            ("rollback", "satya"),
            ("enqueue", "satya-auto"),
            ("reject", "satya"),
        ]
        for strategy, assistant in tried:
            run = await client.runs.create(
                tid, assistant, input={"message": "help"}, multitask_strategy=strategy
            )
            assert (run["multitask_strategy"], run["assistant_id"]) == (strategy, assistant)
            await client.runs.join(tid, run["run_id"])
            got = await client.runs.get(tid, run["run_id"])
            assert (got["multitask_strategy"], got["assistant_id"]) == (strategy, assistant)
            sent.append((strategy, assistant))
        listed = await client.runs.list(tid)
        assert [(r["multitask_strategy"], r["assistant_id"]) for r in listed] == sent[::-1]
        stateless = await client.runs.create(None, "satya-auto", input={"message": "help"})
        assert (stateless["multitask_strategy"], stateless["assistant_id"]) == (
            "reject",
            "satya-auto",
        )

    asyncio.run(scenario())


def test_a_thread_with_a_queued_run_is_busy(slow_poll_server: ServerThread, tmp_path: Path) -> None:
    """As LangGraph shows it: a thread is busy while it has a run pending or running, also
    when its only one is queued (enqueue) and waits for its turn."""
    srv = slow_poll_server
    key = srv.key("sdk-queued-busy")
    model = make_model_file(tmp_path / "slow.safetensors", "safetensors", size_mb=0.3)

    async def scenario() -> None:
        client = get_client(url=srv.url, api_key=key)
        tid = await _at_upload_gate(client, srv, key, model)
        first = await client.runs.create(tid, "satya", command={"resume": "yes"})
        queued = await client.runs.create(
            tid, "satya", input={"message": "help"}, multitask_strategy="enqueue"
        )
        assert queued["status"] == "pending"
        assert (await client.threads.get(tid))["status"] == "busy"
        await client.runs.join(tid, first["run_id"])
        # the first run has ended; the queued one starts at its next look, up to 5 s later
        thread: Any = await client.threads.get(tid)
        assert thread["status"] == "busy"
        found = await client.threads.search(status="busy")
        assert tid in {t["thread_id"] for t in found}
        await client.runs.join(tid, queued["run_id"])
        assert (await client.threads.get(tid))["status"] != "busy"

    asyncio.run(scenario())
