"""Files a message names: paths as written (quoted, relative, ``~``, with spaces), globs,
folders ("everything in models/"), and files named by what they are ("the bert one, the
tiny one and the resnet"), matched against the files that exist. Nothing is invented: a
name that matches no file, or several equally, gives nothing.

Example::

    >>> find_files("upload ./model.safetensors", None)
    ['./model.safetensors']
"""

from __future__ import annotations

import re
from pathlib import Path

from agent.understanding.rules import extract_paths

_MODEL_SUFFIXES = (
    ".safetensors",
    ".onnx",
    ".pt",
    ".pth",
    ".bin",
    ".ckpt",
    ".h5",
    ".keras",
    ".gguf",
    ".pb",
    ".zip",
    ".pkl",
    ".pickle",
    ".npz",
    ".tflite",
)
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "this",
        "that",
        "model",
        "models",
        "file",
        "files",
        "one",
        "it",
        "its",
        "to",
        "on",
        "in",
        "of",
        "for",
        "please",
        "upload",
        "publish",
        "put",
        "marketplace",
        "sell",
        "list",
        "want",
        "would",
        "like",
        "i",
        "i'd",
        "id",
        "me",
        "can",
        "you",
    ]
)


def model_files(base: Path, *, limit: int = 500) -> list[Path]:
    """Model files under ``base`` (two levels deep), relative to it."""
    out: list[Path] = []
    for pattern in ("*", "*/*", "*/*/*"):
        for p in base.glob(pattern):
            if p.suffix.lower() in _MODEL_SUFFIXES and p.is_file():
                out.append(p.relative_to(base))
                if len(out) >= limit:
                    return out
    return out


_NAME_MAX = 255  # the longest file name a file system accepts (bytes; checked in characters)
# A name with spaces that ends in a model extension ("my model v2.safetensors"): runs of the
# characters a name may hold, cut at each extension (one pass: linear in the text)
_NAME_RUN = re.compile(r"[\w ~./-]+")
_NAME_END = re.compile(r"\.(?:safetensors|onnx|gguf|h5|pt|pth|bin)")


def _is_file(path: Path) -> bool:
    """``path`` is a file; a name no file system accepts (too long, a NUL) is simply not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def path_exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def user_path(raw: str) -> Path:
    """``raw`` with ``~`` expanded; ``~nobody/x`` (no such user) stays as written."""
    try:
        return Path(raw).expanduser()
    except RuntimeError:
        return Path(raw)


def _with_spaces(text: str, raw: str, base: Path) -> str | None:
    """'publish my model v2.safetensors' -> 'my model v2.safetensors' when that file exists."""
    at = text.find(raw)
    if at <= 0:
        return None
    window = text[max(0, at - _NAME_MAX) : at]  # a longer name is no file name
    words = window.split()
    for n in range(1, min(len(words), 6) + 1):
        name = " ".join([*words[-n:], raw]) if text[at - 1] == " " else raw
        if len(name) <= _NAME_MAX and _is_file(base / name):
            return name
    return None


def _spaced_names(text: str) -> list[str]:
    """Candidate names with spaces: each run of name characters up to a model extension."""
    out: list[str] = []
    for run in _NAME_RUN.finditer(text):
        start = run.start()
        for end in _NAME_END.finditer(text, run.start(), run.end()):
            piece = text[start : end.end()].lstrip(" ")
            if len(piece) > len(end.group(0)):  # a name before the extension
                out.append(piece)
                start = end.end()
    return out


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in _STOP}


# What people call a format: "the keras one" is the .h5 file, "the pytorch one" the .pt
_FORMAT_WORDS = {
    "h5": {"keras", "tensorflow", "tf", "h5"},
    "keras": {"keras", "tensorflow", "tf"},
    "pt": {"pytorch", "torch", "pt"},
    "pth": {"pytorch", "torch", "pth"},
    "pb": {"tensorflow", "tf"},
    "tflite": {"tflite", "tensorflow", "lite"},
    "pkl": {"pickle", "sklearn", "pkl"},
    "pickle": {"pickle", "sklearn"},
}


def _name_tokens(f: Path) -> set[str]:
    """A file's name as words: 'resnet50_v2.pt' -> resnet50, resnet, 50, v2, pt, pytorch…"""
    stem = _tokens(f.stem)
    split = {t for s in stem for t in re.findall(r"[a-z]+|\d+", s) if len(t) > 1}
    suffix = f.suffix.lstrip(".").lower()
    folders = {t for part in f.parent.parts for t in _tokens(part)}
    return stem | split | folders | {suffix} | _FORMAT_WORDS.get(suffix, set())


def find_files(text: str, base: Path | None) -> list[str]:
    """The files a message names: as written when they exist or look like paths, else the
    one existing model file whose name the words match ("the sentiment bert one")."""
    written = extract_paths(text)
    if base is None:
        return written
    out: list[str] = []
    known: list[Path] | None = None  # the model files under base, listed once
    for raw in written:
        candidate = user_path(raw)
        full = candidate if candidate.is_absolute() else base / candidate
        if path_exists(full):
            out.append(raw)
            continue
        spaced = _with_spaces(text, raw, base)
        if spaced is not None:
            out.append(spaced)
            continue
        # "it's in sentiment-tiny.safetensors" where the file is under models/
        known = model_files(base) if known is None else known
        matches = [f for f in known if f.name == candidate.name]
        out.append(str(matches[0]) if len(matches) == 1 else raw)
    if out:
        return out
    for raw in _spaced_names(text):  # an unquoted name with spaces: 'my model v2.safetensors'
        first = max(0, len(raw) - _NAME_MAX)
        for start in range(first, len(raw)):
            if start and raw[start - 1] != " ":
                continue
            piece = raw[start:].strip()
            if _is_file(base / piece):
                return [piece]
    files = model_files(base)
    if _SEGMENT.search(text):  # "the bert one, the tiny one and resnet"
        several: list[str] = []
        for segment in _SEGMENT.split(text):
            for found in _named_by(segment, files, all_tied=bool(_PLURAL.search(segment))):
                if found not in several:
                    several.append(found)
        if len(several) > 1:
            return several
    return _named_by(text, files, all_tied=bool(_PLURAL.search(text)))


_SEGMENT = re.compile(r",|;|\band\b|&|\bplus\b|\bas well as\b", re.I)
_PLURAL = re.compile(r"\b(both|all|models|files|ones)\b", re.I)


def _named_by(words_of: str, files: list[Path], *, all_tied: bool) -> list[str]:
    """The one model file whose name the words match best ("the sentiment bert one"),
    or every file tied for best when ``all_tied`` ("both sentiment models")."""
    words = _tokens(words_of)
    if not words:
        return []
    scored: list[tuple[int, str]] = []
    for f in files:
        hit = len(words & _name_tokens(f))  # "the gguf", "the resnet one"
        if hit:
            scored.append((hit, str(f)))
    scored.sort(reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return [scored[0][1]]
    if scored and all_tied:
        return sorted(f for hit, f in scored if hit == scored[0][0])
    return []
