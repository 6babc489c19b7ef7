"""Static pickle scanning: disassemble with ``pickletools.genops``, never unpickle.

Every import a pickle makes (``GLOBAL``, ``INST``, ``STACK_GLOBAL``) is resolved
(through the memo, for ``STACK_GLOBAL``) and checked against ``SAFE_GLOBALS``;
anything else is critical, since unpickling it would call arbitrary code.
The scan also extracts PyTorch persistent ids ``('storage', torch.XStorage,
key, location, numel)`` so the archive's tensor data can be read.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickletools
from dataclasses import dataclass, field
from typing import IO

SAFE_GLOBALS: frozenset[str] = frozenset(
    {
        "collections.OrderedDict",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.slice",
        "builtins.complex",
        "_codecs.encode",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_device_tensor_from_numpy",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Size",
        "torch.device",
        "torch.nn.parameter.Parameter",
        "torch.storage.UntypedStorage",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
    }
)

# torch.<Name>Storage -> (numpy dtype, item size)
STORAGE_DTYPES: dict[str, tuple[str, int]] = {
    "DoubleStorage": ("float64", 8),
    "FloatStorage": ("float32", 4),
    "HalfStorage": ("float16", 2),
    "BFloat16Storage": ("bfloat16", 2),
    "LongStorage": ("int64", 8),
    "IntStorage": ("int32", 4),
    "ShortStorage": ("int16", 2),
    "CharStorage": ("int8", 1),
    "ByteStorage": ("uint8", 1),
    "BoolStorage": ("bool", 1),
    "ComplexFloatStorage": ("complex64", 8),
    "ComplexDoubleStorage": ("complex128", 16),
}

# Why some well-known references are dangerous, for a sharper message.
_KNOWN_DANGEROUS: dict[str, str] = {
    "os": "runs operating-system commands",
    "posix": "runs operating-system commands",
    "nt": "runs operating-system commands",
    "subprocess": "starts processes",
    "builtins.eval": "evaluates code",
    "builtins.exec": "executes code",
    "builtins.compile": "compiles code",
    "builtins.__import__": "imports modules",
    "builtins.getattr": "reaches arbitrary attributes",
    "builtins.open": "opens files",
    "socket": "opens network connections",
    "shutil": "changes files",
    "runpy": "runs code",
    "importlib": "imports modules",
    "pty": "spawns a shell",
    "webbrowser": "opens URLs",
    "sys": "changes the interpreter",
    "marshal": "loads code objects",
    "pickle": "unpickles nested data",
    "_pickle": "unpickles nested data",
}

_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)
_INT_OPS = frozenset({"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG"})
_MAX_OPS = 50_000_000
_OPAQUE = object()  # a value a static walk cannot know


@dataclass(frozen=True, slots=True)
class GlobalRef:
    """A ``module.name`` a pickle imports."""

    module: str
    name: str

    @property
    def dotted(self) -> str:
        """``module.name``."""
        return f"{self.module}.{self.name}"


@dataclass(slots=True)
class Storage:
    """A PyTorch storage referenced by a persistent id."""

    key: str
    dtype: str
    itemsize: int
    numel: int


@dataclass(slots=True)
class PickleScan:
    """What one or more pickles import and reference."""

    imports: list[str] = field(default_factory=list)
    unsafe: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)
    storages: dict[str, Storage] = field(default_factory=dict)
    protocol: int | None = None
    opcodes: int = 0
    end: int = 0  # offset just past the STOP of the last pickle scanned


def explain(ref: str) -> str:
    """Why importing ``ref`` is a problem, in a few words."""
    if ref in _KNOWN_DANGEROUS:
        return _KNOWN_DANGEROUS[ref]
    module = ref.split(".", 1)[0]
    return _KNOWN_DANGEROUS.get(module, "is not on the safe list")


def _is_safe(ref: str) -> bool:
    """True for allow-listed references, including ``torch.<X>Storage`` classes."""
    if ref in SAFE_GLOBALS:
        return True
    module, _, name = ref.rpartition(".")
    return module == "torch" and name in STORAGE_DTYPES


def scan_pickle(
    data: bytes | IO[bytes], *, count: int = 1, scan: PickleScan | None = None
) -> PickleScan:
    """Scan ``count`` consecutive pickles from bytes or a binary stream.

    Raises ``ValueError`` when the bytes are not a well-formed pickle.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    out = scan if scan is not None else PickleScan()
    for _ in range(count):
        _scan_one(stream, out)
    return out


def _python3_name(module: str, name: str) -> GlobalRef:
    """Map Python 2 names (``__builtin__.eval``) the way ``pickle.Unpickler`` does."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    return GlobalRef(_compat_pickle.IMPORT_MAPPING.get(module, module), name)


def _record(out: PickleScan, ref: str) -> None:
    """Note an import and whether it is safe."""
    if ref not in out.imports:
        out.imports.append(ref)
    if not _is_safe(ref) and all(r != ref for r, _ in out.unsafe):
        out.unsafe.append((ref, explain(ref)))


def _scan_one(stream: IO[bytes], out: PickleScan) -> None:
    """Walk one pickle's opcodes up to its STOP."""
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed, as far as a static walk can tell
    try:
        for op, arg, _pos in pickletools.genops(stream):
            out.opcodes += 1
            if out.opcodes > _MAX_OPS:
                raise ValueError("the pickle has too many opcodes to scan")
            name = op.name
            if name == "PROTO":
                out.protocol = int(arg)  # type: ignore[arg-type]
            elif name in _STRING_OPS:
                recent.append(arg.decode("latin-1") if isinstance(arg, bytes) else str(arg))
            elif name in _INT_OPS:
                recent.append(int(arg) if isinstance(arg, int) else arg)
            elif name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                ref = _python3_name(module, attr)
                _record(out, ref.dotted)
                recent.append(ref)
            elif name == "STACK_GLOBAL":
                ref_obj: object = None
                if len(recent) >= 2 and all(isinstance(v, str) for v in recent[-2:]):
                    ref_obj = _python3_name(str(recent[-2]), str(recent[-1]))
                    _record(out, ref_obj.dotted)
                else:
                    _record(out, "<unresolvable STACK_GLOBAL>")
                del recent[-2:]
                recent.append(ref_obj)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(arg)] = recent[-1] if recent else None  # type: ignore[arg-type]
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                recent.append(memo.get(int(arg)))  # type: ignore[arg-type]
            elif name in ("EXT1", "EXT2", "EXT4"):
                _record(out, f"<copyreg extension {arg}>")
            elif name == "BINPERSID":
                _storage(recent, out)
            elif name == "STOP":
                out.end = stream.tell()
                return
            else:
                recent.append(_OPAQUE)
            if len(recent) > 64:
                del recent[:-32]
    except ValueError:
        raise
    except Exception as exc:  # pickletools raises bare ValueError/EOF-ish errors
        raise ValueError(f"the pickle is malformed ({type(exc).__name__})") from exc
    raise ValueError("the pickle ends without a STOP opcode")


def _storage(recent: list[object], out: PickleScan) -> None:
    """Decode ``('storage', torch.XStorage, key, location, numel, ...)`` before a BINPERSID."""
    window = recent[-10:]
    marks = [i for i, v in enumerate(window) if v == "storage"]
    if not marks:
        return
    rest = window[marks[-1] + 1 : marks[-1] + 5]
    if len(rest) < 4:
        return
    ref, key, _location, numel = rest
    if (
        isinstance(ref, GlobalRef)
        and ref.name in STORAGE_DTYPES
        and isinstance(key, str)
        and isinstance(numel, int)
        and numel >= 0
    ):
        dtype, itemsize = STORAGE_DTYPES[ref.name]
        out.storages.setdefault(key, Storage(key, dtype, itemsize, numel))
