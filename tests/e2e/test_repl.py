"""``satya chat`` driven in a real pseudo-terminal (pexpect), and in a pipe.

A small VT100 screen model replays what the chat writes (prompt_toolkit
redraws only the cells that change), answers its cursor-position requests the
way a terminal does, and lets the tests read the screen a user would see:
progress rows updating in place above the prompt, gates, tables, JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from agent.journey_files import make_model_file

pytestmark = pytest.mark.slow

ROWS, COLS = 50, 200
# Small chunks so that a 20 MB upload takes seconds and reports progress many times.
CHUNK_MIB = "0.015625"
UPLOAD_ROW = re.compile(r"^upload\s+[━╸╺ ]+\s+(\d+)%", re.M)

_CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class Screen:
    """Just enough of a VT100 to read what prompt_toolkit and rich leave on the screen.

    Lines that scroll off the top are kept (the scrollback), so ``text()`` is the
    whole session as the user could scroll through it.
    """

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.lines: list[list[str]] = [[]]
        self.wrapped: set[int] = set()  # rows continued on the next row by autowrap
        self.row = self.col = 0
        self.top = 0  # first row of the visible screen
        self.autowrap = True
        self.cpr_requests = 0
        self._pending = ""

    def _line(self) -> list[str]:
        while len(self.lines) <= self.row:
            self.lines.append([])
        if self.row >= self.top + self.rows:
            self.top = self.row - self.rows + 1
        return self.lines[self.row]

    def _put(self, ch: str) -> None:
        if self.col >= self.cols:
            if self.autowrap:
                self.wrapped.add(self.row)
                self.row, self.col = self.row + 1, 0
            else:
                self.col = self.cols - 1
        line = self._line()
        line.extend(" " * (self.col - len(line)))
        if self.col < len(line):
            line[self.col] = ch
        else:
            line.append(ch)
        self.col += 1

    def feed(self, data: str) -> None:
        data, self._pending = self._pending + data, ""
        i = 0
        while i < len(data):
            ch = data[i]
            if ch == "\x1b":
                csi = _CSI.match(data, i)
                if csi:
                    self._csi(csi.group(1), csi.group(2), csi.group(3))
                    i = csi.end()
                    continue
                osc = _OSC.match(data, i)
                if osc:
                    i = osc.end()
                    continue
                if len(data) - i < 32 and (i + 1 == len(data) or data[i + 1] in "[]"):
                    self._pending = data[i:]  # the rest of the sequence is still coming
                    return
                i += 2
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row += 1
                self._line()
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch >= " ":
                self._put(ch)
            i += 1

    def _csi(self, private: str, params: str, final: str) -> None:
        nums = [int(p) if p else 0 for p in params.split(";")] if params else []
        n = nums[0] if nums and nums[0] else 1
        if private:
            if private == "?" and params == "7":
                self.autowrap = final == "h"
            return
        if final == "A":
            self.row = max(self.top, self.row - n)
        elif final == "B":
            self.row += n
            self._line()
        elif final == "C":
            self.col = min(self.cols - 1, self.col + n)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "G":
            self.col = n - 1
        elif final in "Hf":
            self.row = self.top + (nums[0] if nums and nums[0] else 1) - 1
            self.col = (nums[1] if len(nums) > 1 and nums[1] else 1) - 1
            self._line()
        elif final == "K":
            line = self._line()
            mode = nums[0] if nums else 0
            if mode == 0:
                del line[self.col :]
            else:
                line[: self.col + 1 if mode == 1 else len(line)] = []
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode == 0:
                del self._line()[self.col :]
                for k in range(self.row + 1, len(self.lines)):
                    self.lines[k] = []
                    self.wrapped.discard(k)
        elif final == "n" and nums == [6]:
            self.cpr_requests += 1

    def cursor_report(self) -> str:
        return f"\x1b[{self.row - self.top + 1};{self.col + 1}R"

    def text(self) -> str:
        out = []
        for k, line in enumerate(self.lines):
            out.append("".join(line) if k in self.wrapped else "".join(line).rstrip() + "\n")
        return "".join(out).rstrip("\n")


class ChatTerminal:
    """``satya chat`` in a pseudo-terminal, read through ``Screen``."""

    def __init__(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        self.screen = Screen(ROWS, COLS)
        self.raw = ""
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "agent.cli", "chat", *args],
            cwd=str(cwd),
            env=env,
            dimensions=(ROWS, COLS),
            encoding="utf-8",
            codec_errors="replace",
        )

    def pump(self, timeout: float = 0.05) -> bool:
        """Read what arrived; False once the chat has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += data
        asked = self.screen.cpr_requests
        self.screen.feed(data)
        for _ in range(self.screen.cpr_requests - asked):
            self.child.send(self.screen.cursor_report())  # as a terminal answers
        return True

    @property
    def text(self) -> str:
        return self.screen.text()

    @property
    def flat(self) -> str:
        """The screen with line breaks and runs of spaces as single spaces (for phrases)."""
        return " ".join(self.text.split())

    def wait(self, check: Callable[[], object], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline or not self.pump():
                if check():
                    return
                raise AssertionError(f"never saw {what}; the screen:\n{self.text[-4000:]}")

    def wait_for(self, phrase: str, timeout: float = 60, *, count: int = 1) -> None:
        self.wait(lambda: self.flat.count(" ".join(phrase.split())) >= count, repr(phrase), timeout)

    def enter(self, line: str = "") -> None:
        self.child.send(line + "\r")

    def ctrl(self, key: str) -> None:
        self.child.sendcontrol(key)

    def exit_status(self, timeout: float = 60) -> int:
        self.wait(lambda: not self.child.isalive(), "the chat exit", timeout)
        while self.pump():
            pass
        self.child.close()
        assert "Traceback" not in self.raw, self.raw[-3000:]
        return int(self.child.exitstatus or 0)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    make_model_file(tmp_path / "model.safetensors", "safetensors", size_mb=20)
    make_model_file(tmp_path / "small.safetensors", "safetensors", size_mb=0.2, seed=1)
    return tmp_path


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SATYA_HOME": str(home),
        "SATYA_CHUNK_SIZE_MIB": CHUNK_MIB,
        "SATYA_UPLOAD_CONCURRENCY": "1",
        "TERM": "xterm-256color",
        "COLUMNS": str(COLS),
        "LINES": str(ROWS),
    }


def _prompt(term: ChatTerminal, phase: str, *, gate: bool = False) -> None:
    """Wait for the prompt at rest in ``phase`` (with a question waiting, if ``gate``)."""
    mark = r" \?" if gate else ""
    term.wait(
        lambda: re.search(rf"^\[{phase} \d+%{mark}\] › ?$", term.text, re.M), f"the {phase} prompt"
    )


def test_onboarding_help_completion_paste_history_and_the_default_answer(
    workdir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    term = ChatTerminal(workdir, _env(home))
    term.wait_for("›", timeout=30)  # the prompt comes first; the conversation opens behind it
    term.wait_for("New conversation")
    _prompt(term, "idle")
    term.enter("I'm new here, how does this work?")
    term.wait_for("Welcome to Satya!")
    term.wait_for("Step 1 of 5")  # the tour, one step per turn
    _prompt(term, "onboarding")
    term.enter("next")
    term.wait_for("How it works:")
    term.enter("skip")
    term.wait_for("Tour skipped")

    term.child.send("/he\t")  # Tab completes slash commands
    term.wait(lambda: "› /help" in term.text, "/help completed")
    term.enter()
    term.wait_for("/expertise LEVEL")
    term.wait_for("Ctrl-C stops the step in progress")

    # A bracketed paste of two lines is one message.
    term.child.send("\x1b[200~what is\nwalrus storage?\x1b[201~")
    term.enter()
    term.wait_for("Walrus is a decentralised blob store on Sui")
    assert re.search(r"› what is\nwalrus storage\?\n", term.text)

    term.child.send("upload ./sm\t")  # Tab completes file paths
    term.wait(lambda: "› upload ./small.safetensors" in term.text, "the path completed")
    term.enter()
    term.wait_for("Plan for small.safetensors")
    term.wait_for("Estimated cost")
    term.wait_for("About your model (1 of 4)")  # a beginner is asked about the model first
    term.enter("skip all")
    term.wait_for("Approve the upload?")
    term.wait_for("default: no (Enter)")
    term.enter()  # Enter alone takes the default answer: no
    term.wait_for("nothing was uploaded or paid")

    term.ctrl("d")
    assert term.exit_status() == 0
    assert "Bye. Your conversation is saved" in term.flat
    history = (home / "history").read_text()
    assert "I'm new here, how does this work?" in history and "/help" in history


def _raw_json(text: str) -> dict[str, object]:
    """The last JSON object printed at the start of a line."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    return dict(json.loads("\n".join(lines[start : end + 1])))


def test_upload_progress_updates_in_place_gates_answered_and_raw_json(
    workdir: Path, tmp_path: Path
) -> None:
    term = ChatTerminal(workdir, _env(tmp_path / "home"))
    _prompt(term, "idle")
    term.enter("upload ./model.safetensors")
    term.wait_for("Approve the upload?")
    term.wait_for("Storage cost about")
    term.enter("yes")

    seen: list[int] = []
    while "Verification passed" not in term.flat:
        assert term.pump(), term.text[-3000:]
        rows = UPLOAD_ROW.findall(term.text)
        assert len(rows) <= 1, "progress rows must update in place, not pile up"
        if rows and (not seen or seen[-1] != int(rows[0])):
            seen.append(int(rows[0]))
    assert len(seen) >= 3, seen  # the bar was redrawn with new figures while it ran
    assert seen == sorted(seen)
    assert re.search(r"MB/s|KB/s", term.raw)  # the rate and time left were on the bar
    assert "ETA" in term.raw

    term.wait_for("Approve the listing?")
    term.wait_for("Suggested range")
    _prompt(term, "marketplace_listing", gate=True)
    assert not UPLOAD_ROW.findall(term.text), "the bars go when the step ends"
    term.enter("make it 2 SUI")  # an edit answer
    term.wait_for("Price set to 2 SUI")
    term.wait_for("Approve the listing?", count=2)
    term.enter("yes")
    term.wait_for("Listed")
    _prompt(term, "completed")

    term.enter("/raw")
    term.wait(lambda: "\n}\n[completed" in term.text, "the raw JSON, then the prompt")
    raw = _raw_json(term.text)
    fields = raw["content"]["fields"]  # type: ignore[index]
    assert raw["objectId"] == fields["id"] and fields["price"] == 2_000_000_000
    term.enter("/quit")
    assert term.exit_status() == 0


def _upload_until(term: ChatTerminal, percent: int) -> None:
    term.wait(
        lambda: any(int(p) >= percent for p in UPLOAD_ROW.findall(term.text)),
        f"the upload at {percent}%",
    )


def test_ctrl_c_during_upload_pauses_it_and_the_thread_resumes(
    workdir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    term = ChatTerminal(workdir, _env(home))
    _prompt(term, "idle")
    term.enter("upload ./model.safetensors")
    term.wait_for("Approve the upload?")
    term.enter("yes")
    _upload_until(term, 3)
    term.ctrl("c")
    term.wait_for("Stopped. The upload is paused at")
    term.wait_for("its finished chunks are kept")
    thread = (home / "last_threads" / "local").read_text().strip()
    assert not UPLOAD_ROW.findall(term.text)
    term.ctrl("c")  # at the prompt: a hint, then a second Ctrl-C leaves
    term.wait_for("Ctrl-C again or Ctrl-D to leave")
    term.ctrl("c")
    assert term.exit_status() == 0
    assert f"satya chat --thread {thread}" in term.flat

    # `satya chat --thread ID` continues the interrupted step at once; stop it again.
    term = ChatTerminal(workdir, _env(home), "--thread", thread)
    term.wait_for("A step was interrupted; continuing it now.")
    _upload_until(term, 8)
    term.ctrl("c")
    term.wait_for("Stopped. The upload is paused at")
    term.ctrl("d")
    assert term.exit_status() == 0

    # A plain start offers the last conversation; Enter continues the upload. The verification
    # after it always outlives the turn here (no foreground wait): the background monitor must
    # follow the job that the resumed step left running, and its completion asks the question.
    background = {"SATYA_VERIFY_FOREGROUND_S": "0", "SATYA_MONITOR_POLL_S": "0.05"}
    term = ChatTerminal(workdir, {**_env(home), **background})
    term.wait_for(f"Resuming conversation {thread}")
    term.wait_for("Press Enter or say 'resume' to continue it")
    term.enter()
    term.wait_for("were already stored and not sent again")
    term.wait_for("Verification continues in the background")
    term.wait_for("Approve the listing?")
    term.enter("no")
    term.wait_for("Not listed")
    term.ctrl("d")
    assert term.exit_status() == 0


def test_pipe_mode_is_plain_lines() -> None:
    script = "check status\n/help\nmarket analysis\n/raw\n/bogus\n"
    debug = "/mode debug\ncheck status\n/step\n/state\n/continue\n/mode supervised\n"
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat"],
        input=script + debug,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b" not in out and "\r" not in out  # no control codes at all
    lines = out.splitlines()
    assert "> check status" in lines
    assert lines[lines.index("> check status") + 1].startswith("Phase: idle")
    assert "> /help" in lines and any(line.strip().startswith("/resume ID") for line in lines)
    assert "There is no command /bogus. /help lists the commands." in lines
    # Debug mode: stop before each step, look at the state, step, run on.
    after = lines[lines.index("> /mode debug") :]
    assert after[after.index("> check status") + 1].startswith("[debug] paused before: intake")
    assert after[after.index("> /step") + 1].startswith("[debug] paused before: status")
    assert "next: status" in after
    assert after[after.index("> /continue") + 1].startswith("Phase: idle")
    assert after[after.index("> /mode supervised") + 1].startswith("Mode: supervised.")
    assert "Traceback" not in out + done.stderr
    assert lines[-1].startswith("Bye. Your conversation is saved: satya chat --thread ")


def test_a_bad_setting_is_one_paragraph_not_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SATYA_UPLOAD_CONCURRENCY": "many"},
    )
    assert done.returncode == 2
    assert "SATYA_UPLOAD_CONCURRENCY" in done.stderr and "Traceback" not in done.stderr


def test_pipe_mode_announces_a_background_verification_when_it_ends(workdir: Path) -> None:
    """The turn does not wait for the enclave; its completion arrives by itself, in order."""
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "chat"],
        input="upload ./small.safetensors\nyes\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=workdir,
        env={
            **_env(workdir / "home"),
            "SATYA_VERIFY_FOREGROUND_S": "0",
            "SATYA_MONITOR_POLL_S": "0.05",
        },
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    background = next(i for i, s in enumerate(lines) if "continues in the background" in s)
    verified = next(i for i, s in enumerate(lines) if s.startswith("Verified: quality"))
    question = next(i for i, s in enumerate(lines) if s.startswith("List "))
    assert background < verified < question
    assert "While you were away" not in done.stdout  # the chat was there: no notice for later
    assert "Traceback" not in done.stdout + done.stderr


def _stopped_upload(workdir: Path, tmp_path: Path) -> ChatTerminal:
    """A chat whose upload was approved, then stopped with Ctrl-C part way."""
    term = ChatTerminal(workdir, _env(tmp_path / "home"))
    _prompt(term, "idle")
    term.enter("upload ./model.safetensors")
    term.wait_for("Approve the upload?")
    term.enter("yes")
    _upload_until(term, 3)
    term.ctrl("c")
    term.wait_for("Stopped. The upload is paused at")
    return term


def test_yes_after_ctrl_c_resumes_the_upload_and_the_listing_question_waits(
    workdir: Path, tmp_path: Path
) -> None:
    term = _stopped_upload(workdir, tmp_path)
    term.enter("yes")  # resumes the stopped upload, and nothing more
    term.wait_for("were already stored and not sent again")
    term.wait_for("Approve the listing?")
    time.sleep(0.5)
    assert "Listed!" not in term.flat
    term.enter("no")
    term.wait_for("Not listed")
    term.ctrl("d")
    assert term.exit_status() == 0


def test_cancel_after_ctrl_c_stops_everything_and_says_what_was_paid(
    workdir: Path, tmp_path: Path
) -> None:
    term = _stopped_upload(workdir, tmp_path)
    term.enter("cancel")
    term.wait_for("Cancelled: nothing more will be done for model.safetensors")
    term.wait_for("not refunded")
    term.enter("check status")
    term.wait_for("cancelled")
    assert "Verification passed" not in term.flat and "Approve the listing?" not in term.flat
    term.ctrl("d")
    assert term.exit_status() == 0
