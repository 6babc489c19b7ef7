"""Runs sent to one thread in quick succession with ``multitask_strategy=interrupt``, over
real HTTP with LangGraph's client: every request is answered, every run ends, and the
thread is free again. Before, a run cancelled a second time while it was writing its end
stayed ``running`` (its thread busy until the worker was presumed dead, 30 s later), and a
cancelled log write left the SQLite connection inside a transaction that broke every
later write (requests hung past 25 s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_harness import ServerThread, slow_run_server
from langgraph_sdk import get_client

from agent.journey_files import make_model_file

ROUNDS, AT_ONCE = 3, 6
ANSWER_S = 10.0  # each request and each join, far above the few hundredths they take


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = slow_run_server(tmp_path_factory.mktemp("interrupts"))
    yield srv
    srv.stop()


def test_interrupts_in_quick_succession_all_end(slow_server: ServerThread, tmp_path: Path) -> None:
    key = slow_server.key("interrupts")
    model = make_model_file(tmp_path / "slow.safetensors", "safetensors", size_mb=0.3)

    async def scenario() -> None:
        client = get_client(url=slow_server.url, api_key=key, timeout=60)
        with slow_server.client(key=key) as c, model.open("rb") as fh:
            upload = c.post("/uploads", files={"file": (model.name, fh)}).json()
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(
            tid, "satya", input={"message": "upload", "upload_id": upload["upload_id"]}
        )
        first = await client.runs.create(tid, "satya", command={"resume": "yes"})  # 4 s or more
        waiter = asyncio.create_task(client.runs.join(tid, first["run_id"]))
        await asyncio.sleep(0.3)

        async def interrupt() -> tuple[str, float]:
            began = time.monotonic()
            try:
                run: Any = await asyncio.wait_for(
                    client.runs.create(
                        tid,
                        "satya",
                        input={"message": "check status"},
                        multitask_strategy="interrupt",
                    ),
                    ANSWER_S,
                )
            except httpx.HTTPStatusError as refused:  # lost the thread to the others: 409
                assert refused.response.status_code == 409, refused.response.text
                return "", time.monotonic() - began
            return str(run["run_id"]), time.monotonic() - began

        run_ids, slowest = [first["run_id"]], 0.0
        for _ in range(ROUNDS):
            answers = await asyncio.gather(*(interrupt() for _ in range(AT_ONCE)))
            run_ids += [run_id for run_id, _ in answers if run_id]
            slowest = max([slowest] + [s for _, s in answers])
        await asyncio.wait_for(waiter, ANSWER_S)  # the first run's waiter is answered
        for run_id in run_ids:
            await asyncio.wait_for(client.runs.join(tid, run_id), ANSWER_S)
        statuses = [(await client.runs.get(tid, r))["status"] for r in run_ids]
        assert not {"pending", "running"} & set(statuses), statuses
        assert (await client.threads.get(tid))["status"] != "busy"
        assert len(run_ids) > ROUNDS, "hardly any run started: the test checked little"
        after: Any = await asyncio.wait_for(
            client.runs.wait(tid, "satya", input={"message": "check status"}), ANSWER_S
        )
        assert after["messages"][-1]["type"] == "ai"  # the thread takes a new run at once
        assert slowest < ANSWER_S

    asyncio.run(scenario())
