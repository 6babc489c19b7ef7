"""Files a message names: paths as written (quoted, relative, ``~``, with spaces), globs,
folders ("everything in models/"), and files named by what they are ("the bert one, the
tiny one and the resnet"), matched against the files that exist. Nothing is invented: a
name that matches no file, or several equally, gives nothing.

Example::

    >>> find_files("upload ./model.safetensors", None)
    ['./model.safetensors']
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from agent.understanding.glossary import unaccented, with_english
from agent.understanding.rules import extract_paths
from integrations.short_forms import joined_versions, with_short_forms

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
    ".joblib",
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
        "price",
        "prices",
        "priced",
        "pricing",
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
        # "model" and "file" in the other languages people write in
        "modelo",
        "modelos",
        "modèle",
        "modele",
        "modell",
        "modelle",
        "fichier",
        "archivo",
        "datei",
        "arquivo",
    ]
)


def model_files(base: Path, *, limit: int = 500) -> list[Path]:
    """Model files under ``base`` (in it and three levels of folders below), relative to it."""
    out: list[Path] = []
    for pattern in ("*", "*/*", "*/*/*"):
        for p in sorted(base.glob(pattern)):
            if p.suffix.lower() in _MODEL_SUFFIXES and p.is_file():
                out.append(p.relative_to(base))
                if len(out) >= limit:
                    return out
    return out


def _deeper_by_name(base: Path, name: str) -> list[Path]:
    """Files called ``name`` in folders below the ones ``model_files`` reads
    ('final_model.pt' in experiments/run_42/checkpoints/)."""
    return _walk(base, lambda entry: entry.name == name)


def _deep_model_files(base: Path) -> list[Path]:
    """The model files of a folder the user named, however deep ("the torch checkpoint in
    experiments": experiments/run_42/checkpoints/epoch_30/model_final.pt)."""
    return sorted(_walk(base, lambda entry: Path(entry.name).suffix.lower() in _MODEL_SUFFIXES))


def _walk(
    base: Path,
    wanted: Callable[[os.DirEntry[str]], bool],
    *,
    depth: int = 6,
    folders: int = 2000,
) -> list[Path]:
    """The files under ``base`` that ``wanted`` accepts, relative to it: ``depth`` levels
    down, hidden folders skipped, at most ``folders`` folders looked at (a message is read
    in milliseconds, whatever the disk)."""
    found: list[Path] = []
    seen = 0
    level = [base]
    for _ in range(depth):
        below: list[Path] = []
        for folder in level:
            seen += 1
            if seen > folders:
                return found
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        below.append(Path(entry.path))
                    elif wanted(entry) and entry.is_file():
                        found.append(Path(entry.path).relative_to(base))
                except OSError:
                    continue
        level = below
    return found


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


def _said_words(text: str) -> set[str]:
    """The words of a message that may name a file: not a price ('2 sui'), not a lone letter
    or digit (the 's' of "it's"); a word of another language for what a model does also as
    the English words file names are written with ("malattie" as "disease")."""
    said = joined_versions(_PRICE_WORDS.sub(" ", unaccented(text)))  # "sst-2" is "sst2"
    return with_english(t for t in _tokens(said) if len(t) > 1)


# (a figure starts after no digit: a run of digits is tried once, not at each of its digits)
_PRICE_WORDS = re.compile(
    r"(?<![\d.,])\d+(?:[.,]\d+)?\s*(?:sui|mist)\b|\b(?:sui|mist|each|them)\b", re.I
)


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
    """A file's name as words: 'resnet50_v2.pt' -> resnet50, resnet, 50, v2, pt, pytorch…;
    'kws_tiny.onnx' also keyword, spotting."""
    stem = _tokens(joined_versions(f.stem))
    split = {t for s in stem for t in re.findall(r"[a-z]+|\d+", s) if len(t) > 1}
    suffix = f.suffix.lstrip(".").lower()
    folders = {t for part in f.parent.parts for t in _tokens(part)}
    words = stem | split | folders | {suffix} | _FORMAT_WORDS.get(suffix, set())
    return with_short_forms(words)


def find_files(text: str, base: Path | None) -> list[str]:
    """The files a message names: as written when they exist or look like paths (a pattern
    such as ``models/*.onnx`` as the files it matches), every model file of a folder named
    with "all" ("everything in models/"), else the existing model files whose names the
    words match ("the sentiment bert one", "the bert one, the tiny one and the resnet")."""
    written = extract_paths(text)
    if base is None:
        return written
    out: list[str] = []
    known: list[Path] | None = None  # the model files under base, listed once
    for raw in written:
        candidate = user_path(raw)
        full = candidate if candidate.is_absolute() else base / candidate
        if _GLOB.search(raw):  # "models/*.onnx": the model files it matches, as the flow would
            out.extend(_globbed(base, raw) or [raw])
            continue
        if _is_dir(full):  # a folder is read below, with the words around it
            continue
        if path_exists(full):
            out.append(raw)
            continue
        spaced = _with_spaces(text, raw, base)
        if spaced is not None:
            out.append(spaced)
            continue
        # "it's in sentiment-tiny.safetensors" where the file is under models/ (or deeper)
        known = model_files(base) if known is None else known
        matches = [f for f in known if f.name == candidate.name]
        if not matches and candidate.parent == Path("."):
            matches = _deeper_by_name(base, candidate.name)
        out.append(str(matches[0]) if len(matches) == 1 else raw)
    out = _whole_names(out, base)
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
    in_folder = _in_folder(text, base)
    if in_folder is not None:
        return in_folder
    files = model_files(base)
    if _SEGMENT.search(text):  # "the bert one, the tiny one and resnet"
        several: list[str] = []
        for segment in _SEGMENT.split(text):
            for found in _named_by(segment, files, all_tied=bool(_PLURAL.search(segment))):
                if found not in several:
                    several.append(found)
        if len(several) > 1:
            return several
    named = _named_by(text, files, all_tied=bool(_PLURAL.search(text)))
    if named or not _ALL.search(text) or not _EVERY_FILE.search(text):
        return named
    # "publish every model I have in here", "all my onnx files": every one (of that format)
    return [str(f) for f in _of_formats(text, files)]


_GLOB = re.compile(r"[*?\[]")
_BATCH = re.compile(r"\b(bulk|batch)\b", re.I)
_SEGMENT = re.compile(
    r",|;|\+|\band\b|&|\bplus\b|\bas well as\b|\bwith\b|\bund\b|\by\b|\bet\b|\baur\b|\be\b", re.I
)
# "all", but not "after all", "at all", "all good", "all set": idioms about no file
_ALL_WORD = (
    r"(?<!after )(?<!at )(?<!that's )(?<!thats )(?<!that is )"
    r"all(?!\s+(?:good|set|right|done|fine|clear|ready|the best|in all)\b)"
)
_PLURAL = re.compile(
    rf"\b(both|{_ALL_WORD}|models|files|ones|them|these|those|every|everything)\b", re.I
)
_ALL = re.compile(
    rf"\b({_ALL_WORD}|every|everything|each|whole|entire|todos|todo|tous|toutes|tout|alle|alles|"
    r"sab|saare|semua|seluruh|tutti|tutte|wszystkie|hepsi|todas)\b",
    re.I,
)
# what "all" is about: the user's model files, not "all good" or "all set"
_EVERY_FILE = re.compile(
    r"\b(?:models?|files?|ones|checkpoints?|weights|everything|of them|mine|i have|i've got|"
    r"in here|(?:"
    + "|".join(
        sorted(
            {w for ws in _FORMAT_WORDS.values() for w in ws}
            | {"onnx", "gguf", "safetensors", "safetensor"}
        )
    )
    + r"))\b",
    re.I,
)
# "the models folder", "in artifacts/", "inside exports": a folder the words name
_FOLDER = re.compile(
    r"(?:(?<![^\s,;:(\"'])(?P<slashed>[\w~.-][\w~./-]*)/(?![\w*?\[])|"
    r"\b(?:the|my|our)\s+(?P<named>[\w.-]+)\s+(?:folder|directory|dir)\b|"
    # "the folder checkpoints", "aus dem Ordner checkpoints", "le dossier models"
    r"\b(?:folder|directory|ordner|verzeichnis|dossier|r[ée]pertoire|carpeta|pasta|cartella|map|klas[öo]r|"
    r"folderze|katalogu|direktori)"
    r"\s+(?P<after>[\w.-]+)|"
    r"\b(?:in|inside|from|under|within|and)\s+(?:the\s+|my\s+)?(?P<bare>[\w.-]+)\b)",
    re.I,
)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _globbed(base: Path, pattern: str) -> list[str]:
    """The model files ``pattern`` matches under ``base``, sorted (as a bulk upload expands it)."""
    try:
        found = sorted(base.glob(str(user_path(pattern))))
    except (ValueError, NotImplementedError):  # an absolute or malformed pattern
        return []
    return [str(p.relative_to(base)) for p in found if p.suffix.lower() in _MODEL_SUFFIXES]


def _whole_names(found: list[str], base: Path) -> list[str]:
    """Without pieces of a longer name also found ('keras/plant' of 'keras/plant disease
    net.h5'), and each file once."""
    out: list[str] = []
    for raw in found:
        if raw in out:
            continue
        if not path_exists(base / user_path(raw)) and any(
            raw != other and raw in other for other in found
        ):
            continue
        out.append(raw)
    return out


def _format_suffixes(text: str) -> set[str]:
    """The file formats the words name: 'the onnx ones' -> {'.onnx'}, 'keras' -> {'.h5', …}."""
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    out = {f".{suffix}" for suffix, names in _FORMAT_WORDS.items() if words & names}
    out |= {f".{w}" for w in words if f".{w}" in _MODEL_SUFFIXES}
    if "safetensor" in words:
        out.add(".safetensors")
    return out


def _of_formats(text: str, files: list[Path]) -> list[Path]:
    formats = _format_suffixes(text)
    return sorted(f for f in files if not formats or f.suffix.lower() in formats)


def _in_folder(text: str, base: Path) -> list[str] | None:
    """The files of the folders the words name: all of them (of a format) with "all", else
    the one the other words name or the only one there. None: no folder of the user's named."""
    found: list[str] | None = None
    for m in _FOLDER.finditer(text):
        name = m.group("slashed") or m.group("named") or m.group("after") or m.group("bare")
        if not name or not _is_dir(base / user_path(name)):
            continue
        folder = user_path(name)
        inside = [folder / f for f in _deep_model_files(base / folder)]
        chosen = _of_formats(_FOLDER.sub(" ", text), inside)  # "ckpt/" names no format
        rest = text.replace(m.group(0), " ")
        if _ALL.search(text) or _PLURAL.search(rest) or _BATCH.search(text):  # "all in models/"
            found = [*(found or []), *(str(f) for f in chosen if str(f) not in (found or []))]
            continue
        if found is not None:
            continue
        named = _named_by(rest, chosen, all_tied=False)
        return named or ([str(chosen[0])] if len(chosen) == 1 else [])
    return found


def _named_by(words_of: str, files: list[Path], *, all_tied: bool) -> list[str]:
    """The one model file whose name the words match best ("the sentiment bert one"),
    or every file tied for best when ``all_tied`` ("both sentiment models")."""
    words = _said_words(words_of)
    if not words:
        return []
    scored: list[tuple[int, str]] = []
    for f in files:
        hit = _hits(words, _name_tokens(f))  # "the gguf", "the resnet one", "the embedder"
        if hit:
            scored.append((hit, str(f)))
    scored.sort(reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return [scored[0][1]]
    tied = [f for hit, f in scored if scored and hit == scored[0][0]]
    if len(tied) > 1 and (end := _END.search(words_of)) is not None:
        # "the latest checkpoint", "the earliest epoch": the tied files by their number
        numbered = sorted((_number(f), f) for f in tied if _number(f) is not None)
        if len(numbered) == len(tied) and numbered[0][0] != numbered[-1][0]:
            return [numbered[-1 if end.group(1) is None else 0][1]]
    if scored and all_tied:
        return sorted(f for hit, f in scored if hit == scored[0][0])
    return []


# which end of a numbered series: "latest", "last", "newest" (None); "earliest", "first" (1)
_END = re.compile(
    r"\b(?:latest|last(?! (?:time|week|night|month|year))|newest|most recent|final|highest|"
    r"(earliest|first|oldest|lowest))\b",
    re.I,
)


def _number(name: str) -> int | None:
    """The last number in a file's name: 'checkpoints/epoch_30.pt' -> 30."""
    found = re.findall(r"\d+", Path(name).stem)
    return int(found[-1]) if found else None


def _hits(words: set[str], names: set[str]) -> int:
    """How many of the words name the file: the same word, one that starts the other
    ('embedder' for 'embed'), or one typo away ('sentimnet')."""
    return sum(1 for w in words if w in names or any(_alike(w, n) for n in names))


def _alike(word: str, name: str) -> bool:
    if len(word) < 4 or len(name) < 4:
        return False
    if word.startswith(name) or name.startswith(word):
        return True
    return len(word) >= 5 and len(name) >= 5 and _one_edit(word, name)


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one letter changed, added, dropped, or two swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]
