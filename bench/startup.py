"""Time from process start to the first prompt of ``satya chat``, next to ``import langgraph``.

Each run starts ``satya chat`` in a real pseudo-terminal (pexpect), with a fresh
SATYA_HOME, and stops the clock when the prompt mark ``›`` is drawn; it also
notes when the conversation is ready (the Assistant and the journey graph
opened behind the prompt). The baseline, ``python -c "import langgraph"`` (and,
for scale, ``import langgraph.graph``), is measured in the same run with the
same interpreter. Prints each figure, then one JSON line:
``{"startup_s": …, "import_langgraph_s": …, "ratio": …, …}``; target: a prompt
within 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

TARGET_S = 1.5
PROMPT = "›"
READY = ("New conversation", "Resuming conversation")


def _chat_command() -> list[str]:
    script = Path(sys.executable).with_name("satya")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


def time_prompt(home: Path) -> tuple[float, float]:
    """Seconds to the first prompt, and to the conversation being ready."""
    cmd = _chat_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATYA_", "OPENAI_"))}
    env.update(SATYA_HOME=str(home), TERM="xterm-256color")
    started = time.perf_counter()
    child = pexpect.spawn(
        cmd[0], [*cmd[1:], "chat"], env=env, dimensions=(40, 120), encoding="utf-8"
    )
    try:
        child.expect_exact(PROMPT, timeout=30)
        prompt = time.perf_counter() - started
        child.expect_exact(list(READY), timeout=60)
        ready = time.perf_counter() - started
        child.sendcontrol("d")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    return prompt, ready


def time_import(module: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    time_import("langgraph.graph")  # warm the file cache for both sides alike
    time_prompt(Path(tempfile.mkdtemp(prefix="satya-bench-")))
    prompts, readies, imports, graph_imports = [], [], [], []
    for _ in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="satya-bench-"))
        try:
            prompt, ready = time_prompt(home)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        prompts.append(prompt)
        readies.append(ready)
        imports.append(time_import("langgraph"))
        graph_imports.append(time_import("langgraph.graph"))

    startup = statistics.median(prompts)
    baseline = statistics.median(imports)
    print(f"first prompt:            median {startup:.3f} s  (runs: {len(prompts)})")
    print(f"conversation ready:      median {statistics.median(readies):.3f} s")
    print(f'python -c "import langgraph":        median {baseline:.3f} s')
    print(f'python -c "import langgraph.graph":  median {statistics.median(graph_imports):.3f} s')
    print(f"target: prompt within {TARGET_S} s -> {'met' if startup <= TARGET_S else 'MISSED'}")
    print(
        json.dumps(
            {
                "startup_s": round(startup, 3),
                "import_langgraph_s": round(baseline, 3),
                "ratio": round(startup / baseline, 2) if baseline else None,
                "ready_s": round(statistics.median(readies), 3),
                "import_langgraph_graph_s": round(statistics.median(graph_imports), 3),
                "target_s": TARGET_S,
                "runs": len(prompts),
            }
        )
    )


if __name__ == "__main__":
    main()
