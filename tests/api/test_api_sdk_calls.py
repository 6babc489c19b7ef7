"""LangGraph's client (langgraph-sdk) for the calls beyond one run: batches of stateless runs,
joining a run by its id alone, following a whole thread, pruning threads, and the refusal
to write a thread's state directly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from typing import Any, cast

import httpx
import pytest
from api_harness import ServerThread
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamPart


def _code(error: httpx.HTTPStatusError) -> tuple[int, str]:
    body = error.response.json()
    assert set(body) == {"detail", "code", "hint"} and body["hint"]
    return error.response.status_code, str(body["code"])


async def _until(check: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def test_create_batch_starts_stateless_runs(server: ServerThread) -> None:
    key = server.key("sdk-batch")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        runs = await client.runs.create_batch(
            cast(
                Any,
                [
                    {"assistant_id": "satya", "input": {"message": "help"}},
                    {
                        "assistant_id": "satya-auto",
                        "input": {"message": "check status"},
                        "on_completion": "keep",
                    },
                ],
            )
        )
        assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"]
        assert {r["status"] for r in runs} <= {"pending", "running", "success"}

        async def one_left() -> bool:  # the first thread is deleted, the kept one stays
            return [t["thread_id"] for t in await client.threads.search()] == [runs[1]["thread_id"]]

        await _until(one_left, "the temporary thread is deleted, the kept one stays")
        kept: Any = await client.runs.join(runs[1]["thread_id"], runs[1]["run_id"])
        assert kept["mode"] == "auto" and kept["messages"][0]["content"] == "check status"

        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.create_batch(
                cast(Any, [{"assistant_id": "nobody", "input": {"message": "help"}}])
            )
        assert _code(caught.value) == (404, "assistant_not_found")
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.create_batch([])
        assert caught.value.response.status_code == 422

    asyncio.run(scenario())


async def _collect(stream: Any, *, until: str, limit: int = 500) -> list[StreamPart]:
    parts: list[StreamPart] = []
    async for part in stream:
        parts.append(part)
        if part.event == until or len(parts) >= limit:
            break
    return parts


def test_a_stateless_run_is_joined_by_its_id(server: ServerThread) -> None:
    """``GET /runs/{id}/stream``, as the JavaScript client's ``joinStream(null, runId)``."""
    key = server.key("sdk-stateless-join")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        run = await client.runs.create(
            None,
            "satya",
            input={"message": "market analysis"},
            stream_mode=["custom", "values"],
            on_completion="keep",
        )
        path = f"/runs/{run['run_id']}/stream"
        parts = await _collect(client.http.stream(path, "GET"), until="end")
        assert parts[0].event == "metadata" and parts[-1].event == "end"
        assert any(p.event == "custom" for p in parts) and parts[-2].event == "values"
        again = await _collect(
            client.http.stream(path, "GET", headers={"Last-Event-ID": parts[1].id or ""}),
            until="end",
        )
        assert [p.id for p in again] == [p.id for p in parts[2:]]

        stranger = get_client(url=server.url, api_key=server.key("sdk-stateless-other"))
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await _collect(stranger.http.stream(path, "GET"), until="end")
        assert _code(caught.value) == (404, "not_found")

    asyncio.run(scenario())


def test_join_stream_follows_a_thread_across_runs(server: ServerThread) -> None:
    key = server.key("sdk-thread-stream")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]

        async def follow(
            until_runs: int, stop_after: int = 10_000, **kwargs: Any
        ) -> list[StreamPart]:
            parts: list[StreamPart] = []
            stream = await client.threads.join_stream(tid, **kwargs)
            async with contextlib.aclosing(cast(AsyncGenerator[StreamPart], stream)):
                async for part in stream:  # leaving it closes the connection
                    parts.append(part)
                    if sum(p.event == "run_done" for p in parts) == until_runs:
                        break
                    if len(parts) >= stop_after:
                        break
            return parts

        watcher = asyncio.create_task(follow(2))
        lifecycle = asyncio.create_task(follow(2, stream_mode="lifecycle"))
        await asyncio.sleep(0.5)  # both are listening before the runs start
        first = await client.runs.create(
            tid, "satya", input={"message": "help"}, stream_mode=["custom", "values"]
        )
        second = await client.runs.create(
            tid, "satya", input={"message": "check status"}, multitask_strategy="enqueue"
        )
        parts = await asyncio.wait_for(watcher, 60)
        done = [p.data for p in parts if p.event == "run_done"]
        assert done == [
            {"run_id": first["run_id"], "status": "success"},
            {"run_id": second["run_id"], "status": "success"},
        ]
        runs_seen = [p.data["run_id"] for p in parts if p.event == "metadata"]
        assert runs_seen == [first["run_id"], second["run_id"]]
        # each run's events in the modes it was started with (the second: the default, values)
        assert {p.event for p in parts if p.id and p.id.startswith(first["run_id"])} == {
            "metadata",
            "custom",
            "values",
            "run_done",
        }
        assert {p.event for p in parts if p.id and p.id.startswith(second["run_id"])} == {
            "metadata",
            "values",
            "run_done",
        }
        assert all(p.id and p.id.startswith((first["run_id"], second["run_id"])) for p in parts)
        events = {p.event for p in await asyncio.wait_for(lifecycle, 60)}
        assert events == {"metadata", "run_done"}

        # reconnecting after an event of the first run: the rest of it, then the second
        cut = next(i for i, p in enumerate(parts) if p.event == "custom")
        rest = await asyncio.wait_for(follow(2, last_event_id=parts[cut].id), 60)
        assert [p.id for p in rest] == [p.id for p in parts[cut + 1 :]]

        # state_update: the thread's values as runs change them, nothing else
        states = asyncio.create_task(follow(99, stop_after=2, stream_mode="state_update"))
        await asyncio.sleep(0.5)
        await client.runs.create(tid, "satya", input={"message": "help"})
        changes = await asyncio.wait_for(states, 60)
        assert [p.event for p in changes] == ["values", "values"]
        assert changes[0].data["messages"][-1]["content"] == "help"

    asyncio.run(scenario())


async def _threads(client: LangGraphClient) -> set[str]:
    return {t["thread_id"] for t in await client.threads.search(limit=100)}


def test_prune_deletes_the_callers_threads(server: ServerThread) -> None:
    key = server.key("sdk-prune")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        ids = [(await client.threads.create())["thread_id"] for _ in range(3)]
        await client.runs.wait(ids[0], "satya", input={"message": "help"})
        other = get_client(url=server.url, api_key=server.key("sdk-prune-other"))
        theirs = (await other.threads.create())["thread_id"]

        result = await client.threads.prune([ids[0], ids[1], theirs, "no-such-thread"])
        assert result == {"pruned_count": 2}
        assert await _threads(client) == {ids[2]}
        assert await _threads(other) == {theirs}  # a stranger's thread is left alone
        assert await client.runs.list(ids[2]) == []

        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.threads.prune([ids[2]], strategy="keep_latest")
        assert _code(caught.value) == (400, "prune_strategy_not_supported")
        assert await _threads(client) == {ids[2]}

    asyncio.run(scenario())


def test_update_state_is_refused_with_what_to_do(server: ServerThread) -> None:
    key = server.key("sdk-update-state")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]
        values: Any = await client.runs.wait(tid, "satya", input={"message": "help"})
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.threads.update_state(tid, {"context": {"price_mist": 1}})
        assert _code(caught.value) == (403, "state_read_only")
        assert "satya-auto" in caught.value.response.json()["hint"]
        state: Any = await client.threads.get_state(tid)
        assert state["values"]["context"] == values["context"]  # nothing was written

        stranger = get_client(url=server.url, api_key=server.key("sdk-update-other"))
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await stranger.threads.update_state(tid, {"mode": "auto"})
        assert _code(caught.value) == (404, "not_found")

    asyncio.run(scenario())
