"""Per-turn overhead of the agent next to a bare LangGraph graph, measured in the same run.

Agent: Assistant.send("check status") — rule interpreter, SQLite checkpointer and
store, intake + status nodes, reply rendering. Baseline: a bare StateGraph with
the same number of nodes and the same checkpointer, running two nodes per turn.
Recording step events: the same 'market analysis' turn (a recorded step and its ledger
call, kept in the store when the turn ends) with SATYA_STEP_EVENTS on and off, interleaved
in rounds so that the machine's load falls on both alike; target: at most 10% more.
Prints medians and p95 and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import TypedDict

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph

from agent.assistant import Assistant
from agent.settings import Settings
from flows.graph import build_graph


class BareState(TypedDict, total=False):
    text: str
    count: int


def _bare_graph(nodes: int):  # type: ignore[no-untyped-def]
    g: StateGraph[BareState] = StateGraph(BareState)

    def first(state: BareState) -> BareState:
        return {"count": state.get("count", 0) + 1}

    def reply(state: BareState) -> BareState:
        return {"text": f"turn {state.get('count')}"}

    g.add_node("n0", first)
    for i in range(1, nodes):
        g.add_node(f"n{i}", reply)
        g.add_edge(f"n{i}", END)
    g.add_edge(START, "n0")
    g.add_conditional_edges("n0", lambda s: "n1")
    return g


async def _time_bare(home: Path, nodes: int, turns: int) -> list[float]:
    async with AsyncSqliteSaver.from_conn_string(str(home / "bare.sqlite")) as saver:
        graph = _bare_graph(nodes).compile(checkpointer=saver)
        cfg = {"configurable": {"thread_id": "bench"}}
        out = []
        for _ in range(turns):
            t = time.perf_counter()
            await graph.ainvoke({"text": "check status"}, cfg)
            out.append(time.perf_counter() - t)
        return out


async def _time_agent(
    home: Path, turns: int, *, text: str = "check status", step_events: bool = True
) -> list[float]:
    settings = Settings(_env_file=None, home=home / "agent", step_events=step_events)  # type: ignore[call-arg]
    async with Assistant.open(settings) as assistant:
        thread = await assistant.new_thread("bench")
        out = []
        for _ in range(turns):
            t = time.perf_counter()
            async for _event in assistant.send(thread, text, user_id="bench"):
                pass
            out.append(time.perf_counter() - t)
        return out


async def _recording(home: Path, turns: int, rounds: int = 5) -> tuple[list[float], list[float]]:
    """'market analysis' turns with step events recorded and not, alternating in rounds."""
    on: list[float] = []
    off: list[float] = []
    per = max(1, turns // rounds)
    for _ in range(rounds):
        off += await _time_agent(home, per, text="market analysis", step_events=False)
        on += await _time_agent(home, per, text="market analysis", step_events=True)
    return on, off


def _p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    nodes = len(build_graph().get_graph().nodes) - 2  # without __start__/__end__
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        await _time_bare(home, nodes, 20)  # warm-up
        await _time_agent(home, 20)
        bare = await _time_bare(home, nodes, args.turns)
        agent = await _time_agent(home, args.turns)
        await _recording(home, 20, rounds=1)  # warm-up
        rec_on, rec_off = await _recording(home, args.turns)
    bare_ms, agent_ms = statistics.median(bare) * 1000, statistics.median(agent) * 1000
    print(f"graph nodes: {nodes}; turns: {args.turns}")
    print(
        f"bare LangGraph + SQLite checkpointer: median {bare_ms:.2f} ms, p95 {_p95(bare) * 1000:.2f} ms"
    )
    print(
        f"Satya agent turn ('check status'):    median {agent_ms:.2f} ms, p95 {_p95(agent) * 1000:.2f} ms"
    )
    print(f"ratio agent/bare: {agent_ms / bare_ms:.2f} (target <= 2.0; median target < 15 ms)")
    on_ms, off_ms = statistics.median(rec_on) * 1000, statistics.median(rec_off) * 1000
    overhead = on_ms / off_ms - 1
    print(
        f"'market analysis' with step events:    median {on_ms:.2f} ms, p95 {_p95(rec_on) * 1000:.2f} ms"
    )
    print(
        f"'market analysis' without step events: median {off_ms:.2f} ms, p95 {_p95(rec_off) * 1000:.2f} ms"
    )
    print(f"recording step events adds {overhead:+.1%} to the turn (target <= 10%)")
    print(
        json.dumps(
            {
                "agent_turn_ms": round(agent_ms, 3),
                "bare_turn_ms": round(bare_ms, 3),
                "ratio": round(agent_ms / bare_ms, 3),
                "recorded_turn_ms": round(on_ms, 3),
                "unrecorded_turn_ms": round(off_ms, 3),
                "recording_overhead": round(overhead, 4),
                "nodes": nodes,
                "turns": args.turns,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
