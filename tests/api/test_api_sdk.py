"""LangGraph's own client (langgraph-sdk) against ``satya serve``: the shapes are the protocol's."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from api_harness import ServerThread
from langgraph_sdk import get_client


def test_langgraph_sdk_client_runs_a_journey(server: ServerThread) -> None:
    key = server.key("sdk-user")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        thread = await client.threads.create(metadata={"from": "sdk"})
        tid = thread["thread_id"]
        assert thread["status"] == "idle"

        parts = [
            p
            async for p in client.runs.stream(
                tid,
                "satya",
                input=cast(Any, {"messages": [{"role": "user", "content": "I'm new here"}]}),
                stream_mode=["custom", "values"],
            )
        ]
        events = [p.event for p in parts]
        assert events[0] == "metadata" and events[-1] == "end"
        assert "custom" in events and "values" in events
        replies = [
            p.data["kind"] for p in parts if p.event == "custom" and p.data["type"] == "text"
        ]
        assert "onboarding_welcome" in replies

        values = await client.runs.wait(tid, "satya", input={"message": "check status"})
        assert isinstance(values, dict) and values["user_id"] == "sdk-user"
        state = await client.threads.get_state(tid)
        assert state["checkpoint"]["thread_id"] == tid and state["next"] == []
        history = await client.threads.get_history(tid, limit=2)
        assert len(history) == 2

        run = await client.runs.create(
            tid, "satya", input={"message": "help"}, stream_mode="custom"
        )
        joined = await client.runs.join(tid, run["run_id"])
        assert joined["user_id"] == "sdk-user"
        replay = [p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id="1")]
        assert replay[0].event == "custom" and replay[-1].event == "end"
        got = await client.runs.get(tid, run["run_id"])
        assert got["status"] == "success"
        assert {r["run_id"] for r in await client.runs.list(tid)} >= {run["run_id"]}

        found = await client.threads.search(metadata={"from": "sdk"})
        assert [t["thread_id"] for t in found] == [tid]
        await client.threads.delete(tid)
        assert await client.threads.search(metadata={"from": "sdk"}) == []

    asyncio.run(scenario())


def test_messages_tuple_streams_each_reply_as_an_ai_message(server: ServerThread) -> None:
    """What LangGraph chat UIs ask for: one ``messages`` event per reply, kept for replay."""
    key = server.key("chat-user")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]
        parts = [
            p
            async for p in client.runs.stream(
                tid,
                "satya",
                input=cast(Any, {"messages": [{"role": "user", "content": "market analysis"}]}),
                stream_mode=["messages-tuple", "values", "custom"],
            )
        ]
        run_id = parts[0].data["run_id"]
        texts = [p.data["text"] for p in parts if p.event == "custom" and "text" in p.data]
        messages = [p.data for p in parts if p.event == "messages"]
        assert texts and [m[0]["content"] for m in messages] == texts
        for message, meta in messages:
            assert message["type"] == "ai" and message["id"].startswith(run_id)
            assert meta["run_id"] == run_id and meta["thread_id"] == tid and meta["kind"]
        ids = [m[0]["id"] for m in messages]
        assert len(set(ids)) == len(ids)
        values = [p.data for p in parts if p.event == "values"][-1]
        chat = values["messages"]
        assert chat[0]["type"] == "human" and chat[0]["content"] == "market analysis"
        assert [m["id"] for m in chat[1:]] == ids

        only = [
            p
            async for p in client.runs.join_stream(
                tid, run_id, stream_mode="messages-tuple", last_event_id="1"
            )
        ]
        assert {p.event for p in only} <= {"messages", "end"}
        assert [p.data[0]["id"] for p in only if p.event == "messages"] == ids
        assert only[-1].event == "end"

    asyncio.run(scenario())


def _code(error: httpx.HTTPStatusError) -> tuple[int, str]:
    body = error.response.json()
    assert set(body) == {"detail", "code", "hint"} and body["hint"]
    return error.response.status_code, str(body["code"])


def test_sdk_assistants_are_listed_with_their_config_schema(server: ServerThread) -> None:
    key = server.key("sdk-assistants")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        found = await client.assistants.search()
        assert {a["assistant_id"] for a in found} == {"satya", "satya-auto"}
        assert all(a["graph_id"] == "satya" for a in found)
        assert await client.assistants.count() == 2
        auto = await client.assistants.search(metadata={"mode": "auto"})
        assert [a["assistant_id"] for a in auto] == ["satya-auto"]
        assert await client.assistants.search(graph_id="other") == []
        one = await client.assistants.get("satya")
        assert one["config"]["configurable"]["mode"] == "supervised" and one["name"]
        schemas: Any = await client.assistants.get_schemas("satya-auto")
        assert schemas["config_schema"]["properties"]["mode"]["enum"] == ["supervised", "auto"]
        assert "message" in schemas["input_schema"]["properties"]
        graph = await client.assistants.get_graph("satya")
        assert len(graph["nodes"]) > 5 and graph["edges"]
        assert await client.assistants.get_subgraphs("satya") == {}
        assert len(await client.assistants.get_versions("satya")) == 1

        missing: list[Coroutine[Any, Any, Any]] = [
            client.assistants.get("nobody"),
            client.assistants.get_schemas("nobody"),
        ]
        for call in missing:
            with pytest.raises(httpx.HTTPStatusError) as caught:
                await call
            assert _code(caught.value) == (404, "assistant_not_found")
        fixed: list[Coroutine[Any, Any, Any]] = [
            client.assistants.create("satya"),
            client.assistants.update("satya", name="mine"),
            client.assistants.delete("satya"),
        ]
        for call in fixed:
            with pytest.raises(httpx.HTTPStatusError) as caught:
                await call
            assert _code(caught.value) == (403, "assistants_fixed")

        tid = (await client.threads.create())["thread_id"]
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.wait(tid, "nobody", input={"message": "help"})
        assert _code(caught.value) == (404, "assistant_not_found")
        assert await client.runs.list(tid) == []  # nothing ran

        values: Any = await client.runs.wait(tid, "satya-auto", input={"message": "check status"})
        assert values["mode"] == "auto"
        values = await client.runs.wait(
            tid, "satya", input={"message": "help"}, config={"configurable": {"mode": "supervised"}}
        )
        assert values["mode"] == "supervised"
        values = await client.runs.wait(tid, "satya", input={"message": "help"})
        assert values["mode"] == "supervised"  # the default assistant keeps the thread's mode

    asyncio.run(scenario())


def test_sdk_threads_update_count_and_copy(server: ServerThread, model_file: Path) -> None:
    key = server.key("sdk-threads")
    with server.client(key=key) as c, model_file.open("rb") as fh:
        upload = c.post("/uploads", files={"file": (model_file.name, fh)}).json()

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        first = await client.threads.create(metadata={"team": "vision", "stage": "draft"})
        tid = first["thread_id"]
        await client.threads.create(metadata={"team": "nlp"})
        assert await client.threads.count() == 2
        assert await client.threads.count(metadata={"team": "vision"}) == 1
        assert await client.threads.count(status="interrupted") == 0

        updated = await client.threads.update(tid, metadata={"stage": "review", "owner": "ana"})
        assert updated["metadata"] == {"team": "vision", "stage": "review", "owner": "ana"}
        cleared: Any = await client.threads.update(tid, metadata={"owner": None})
        assert cleared["metadata"] == {"team": "vision", "stage": "review"}
        found = await client.threads.search(metadata={"stage": "review"})
        assert [t["thread_id"] for t in found] == [tid]

        values: Any = await client.runs.wait(
            tid, "satya", input={"message": "upload", "upload_id": upload["upload_id"]}
        )
        assert values["__interrupt__"][0]["value"]["gate"] == "upload"
        copy: Any = await cast(Any, client.threads.copy)(tid)  # typed None, returns the thread
        cid = copy["thread_id"]
        assert cid != tid and copy["status"] == "interrupted"
        assert copy["metadata"] == {"team": "vision", "stage": "review"}
        assert copy["values"]["messages"] == values["messages"]
        history = await client.threads.get_history(cid, limit=100)
        assert len(history) == len(await client.threads.get_history(tid, limit=100))
        assert await client.threads.count(status="interrupted") == 2

        # the copy goes on by itself: its answer does not touch the original
        answered: Any = await client.runs.wait(cid, "satya", command={"resume": "no"})
        assert "__interrupt__" not in answered
        assert (await client.threads.get(tid))["status"] == "interrupted"
        assert (await client.threads.get(cid))["status"] == "idle"

        other = get_client(url=server.url, api_key=server.key("sdk-stranger"))
        strangers: list[Coroutine[Any, Any, Any]] = [
            other.threads.copy(tid),
            other.threads.update(tid, metadata={"x": 1}),
        ]
        for call in strangers:
            with pytest.raises(httpx.HTTPStatusError) as caught:
                await call
            assert _code(caught.value) == (404, "not_found")
        assert await other.threads.count() == 0

    asyncio.run(scenario())


def test_sdk_stream_modes_show_every_step(server: ServerThread) -> None:
    """updates (every node), messages, tasks, checkpoints, debug and events, as LangGraph."""
    key = server.key("sdk-modes")

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]
        modes: Any = [
            "updates",
            "messages",
            "tasks",
            "checkpoints",
            "debug",
            "events",
            "custom",
            "values",
        ]
        parts = [
            p
            async for p in client.runs.stream(
                tid, "satya", input={"message": "market analysis"}, stream_mode=modes
            )
        ]
        by: dict[str, list[Any]] = {}
        for p in parts:
            by.setdefault(p.event, []).append(p.data)
        assert parts[0].event == "metadata" and parts[-1].event == "end"

        updates = by["updates"]
        assert len(updates) >= 2 and all(len(u) == 1 for u in updates)
        nodes = [next(iter(u)) for u in updates]
        texts = [c["text"] for c in by["custom"] if c["type"] == "text"]
        assert texts and [m[0]["content"] for m in by["messages/complete"]] == texts
        assert [m[0]["content"] for m in by["messages/partial"]] == texts
        assert all(
            m[0]["id"] in meta
            for m, meta in zip(by["messages/complete"], by["messages/metadata"], strict=True)
        )

        tasks = by["tasks"]
        assert [t["name"] for t in tasks[::2]] == nodes and [
            t["name"] for t in tasks[1::2]
        ] == nodes
        assert all(t["duration_s"] >= 0 and t["error"] is None for t in tasks[1::2])
        checkpoints = by["checkpoints"]
        assert len(checkpoints) == len(nodes)
        assert checkpoints[-1]["values"]["current_phase"] == by["values"][-1]["current_phase"]
        # values after every step (the state of its checkpoint, with the conversation),
        # then once more as the run ends
        values = by["values"]
        assert len(values) == len(nodes) + 1
        for step_values, checkpoint in zip(values, checkpoints, strict=False):
            assert {k: step_values[k] for k in checkpoint["values"]} == checkpoint["values"]
            assert step_values["messages"][0]["content"] == "market analysis"
        assert {d["type"] for d in by["debug"]} == {"task", "task_result", "checkpoint"}
        assert [d["step"] for d in by["debug"] if d["type"] == "task"] == list(
            range(1, len(nodes) + 1)
        )
        kinds = {e["event"] for e in by["events"]}
        assert kinds == {"on_chain_start", "on_chain_end", "on_custom_event"}

        # the SDK's default mode (values): the state after each step, as it happens
        default = [
            p async for p in client.runs.stream(tid, "satya", input={"message": "check status"})
        ]
        states = [p.data for p in default if p.event == "values"]
        assert len(states) >= 3 and {p.event for p in default} == {"metadata", "values", "end"}
        assert [s["messages"][-1]["content"] for s in states[:1]] == ["check status"]

        # a run that asked only for the default modes logs no step events: joining it
        # again with every mode shows the gate-free updates as none
        plain = await client.runs.create(tid, "satya", input={"message": "help"})
        again = [p async for p in client.runs.join_stream(tid, plain["run_id"], last_event_id="0")]
        assert not [p for p in again if p.event in ("tasks", "debug", "events", "checkpoints")]

        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.create(
                tid, "satya", input={"message": "hi"}, stream_mode=cast(Any, "nope")
            )
        assert _code(caught.value) == (422, "invalid_request")

    asyncio.run(scenario())


def test_sdk_reads_step_events_from_tasks_debug_and_events(
    server: ServerThread, model_file: Path
) -> None:
    """Each step's record (duration, outcome, attempt, bytes, calls, cost) in LangGraph's
    shapes: on its task result, its debug task_result and its on_chain_end."""
    key = server.key("sdk-step-events")
    with server.client(key=key) as c, model_file.open("rb") as fh:
        upload = c.post("/uploads", files={"file": (model_file.name, fh)}).json()

    async def scenario() -> None:
        client = get_client(url=server.url, api_key=key)
        tid = (await client.threads.create())["thread_id"]
        modes: Any = ["tasks", "debug", "events", "custom"]
        asked = [
            p
            async for p in client.runs.stream(
                tid,
                "satya",
                input={"message": "upload", "upload_id": upload["upload_id"]},
                stream_mode=modes,
            )
        ]
        # the upload question: a step that asked, so it has a task of its own (no graph result)
        waiting = [
            t["step"]
            for t in _of(asked, "tasks")
            if "step" in t and t["step"]["outcome"] == "waiting"
        ]
        assert [w["step"] for w in waiting] == ["upload_gate"]

        parts = [
            p
            async for p in client.runs.stream(
                tid, "satya", command={"resume": "yes"}, stream_mode=modes
            )
        ]
        records = [c for c in _of(parts, "custom") if c["type"] == "step"]
        results = [t for t in _of(parts, "tasks") if "result" in t]
        measured = {t["name"]: t["step"] for t in results if "step" in t}
        upload_step = measured["upload"]
        assert upload_step["outcome"] == "ok" and upload_step["attempt"] == 1
        assert upload_step["bytes"] >= model_file.stat().st_size and upload_step["calls"] >= 1
        assert upload_step["duration_s"] > 0
        assert measured["listing_gate"]["outcome"] == "waiting"  # the listing question
        # every step's record is on a task result, and each is the one the custom mode sent
        assert sorted(r["started_at"] for r in records if r["kind"] == "step") == sorted(
            m["started_at"] for m in measured.values()
        )
        debug = {
            d["payload"]["name"]: d["payload"]["step"]
            for d in _of(parts, "debug")
            if d["type"] == "task_result" and "step" in d["payload"]
        }
        assert debug == measured
        ends = {
            e["name"]: e["data"]["step"]
            for e in _of(parts, "events")
            if e["event"] == "on_chain_end" and "step" in e["data"]
        }
        assert ends == measured

    asyncio.run(scenario())


def _of(parts: list[Any], event: str) -> list[Any]:
    return [p.data for p in parts if p.event == event]
