"""Static pickle scanning: disassemble with ``pickletools.genops``, never unpickle.

Every import a pickle makes (``GLOBAL``, ``INST``, ``STACK_GLOBAL``) is resolved
(through the memo, for ``STACK_GLOBAL``) and checked against ``SAFE_GLOBALS`` and ``safe_classes`` (scikit-learn, NumPy);
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

from integrations.tee.inspect.safe_classes import HELPERS, SKLEARN_CLASSES, TYPES

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
        "joblib.numpy_pickle.NumpyArrayWrapper",  # joblib's array container (bytes follow it)
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
    containers: list[str] = field(default_factory=list)  # "joblib" when it wrote arrays inline
    end: int = 0  # offset just past the STOP of the last pickle scanned


def explain(ref: str) -> str:
    """Why importing ``ref`` is a problem, in a few words."""
    if ref in _KNOWN_DANGEROUS:
        return _KNOWN_DANGEROUS[ref]
    module = ref.split(".", 1)[0]
    return _KNOWN_DANGEROUS.get(module, "is not on the safe list")


def _is_safe(ref: str) -> bool:
    """True for allow-listed references (here and in ``safe_classes``), including
    ``torch.<X>Storage`` classes."""
    if ref in SAFE_GLOBALS or ref in SKLEARN_CLASSES or ref in HELPERS or ref in TYPES:
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


# joblib writes each NumPy array's bytes into the pickle stream right after the BUILD of
# its NumpyArrayWrapper (an object array: as a pickle of its own): skipped, or scanned.
_JOBLIB_WRAPPERS = frozenset(
    {
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    }
)
_WRAPPER_KEYS = frozenset(
    {"subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"}
)


@dataclass
class _Wrapper:
    """What a static walk learns of one joblib NumpyArrayWrapper's state."""

    key: str = ""
    shape: list[int] = field(default_factory=list)
    descr: str | None = None
    dtype_ref: bool = False  # numpy.dtype was just named: its first argument is the descr
    alignment: int | None = None
    armed: bool = False  # its state is complete: the next BUILD is the wrapper's

    def saw_string(self, text: str) -> None:
        if text in _WRAPPER_KEYS:
            self.key = text
            self.armed = self.armed or text == "allow_mmap"
        elif self.key == "dtype" and self.dtype_ref and self.descr is None:
            self.descr = text

    def saw_int(self, value: int) -> None:
        if self.key == "shape":
            self.shape.append(value)
        elif self.key == "numpy_array_alignment_bytes":
            self.alignment = value


@dataclass(frozen=True)
class _Dtype:
    """A ``numpy.dtype(descr, ...)`` the pickle built (memoized, it may be used again)."""

    descr: str


def _dtype_made(recent: list[object]) -> object:
    """What a REDUCE pushes: a known dtype when it calls numpy.dtype on a descr string."""
    window = recent[-6:]
    for i, v in enumerate(window[:-1]):
        if (
            isinstance(v, GlobalRef)
            and v.dotted == "numpy.dtype"
            and isinstance(window[i + 1], str)
        ):
            return _Dtype(str(window[i + 1]))
    return _OPAQUE


def _skip_array(stream: IO[bytes], w: _Wrapper, out: PickleScan) -> None:
    """Step over (or scan, for Python objects) the array joblib wrote after its wrapper."""
    import numpy as np

    try:
        dtype = np.dtype(w.descr or "")
    except (TypeError, ValueError):
        raise ValueError(f"a joblib array has a dtype that cannot be read ({w.descr!r})") from None
    if dtype.hasobject:  # a pickle of its own, which may import anything: scanned
        _scan_one(stream, out)
        return
    if w.alignment:
        pad = stream.read(1)
        if len(pad) != 1 or len(stream.read(pad[0])) != pad[0]:
            raise ValueError("a joblib array's padding is cut short")
    count = 1
    for n in w.shape:
        if n < 0:
            raise ValueError("a joblib array has a negative dimension")
        count *= n
    stream.seek(count * dtype.itemsize, io.SEEK_CUR)


def _scan_one(stream: IO[bytes], out: PickleScan) -> None:
    """Walk one pickle's opcodes up to its STOP."""
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed, as far as a static walk can tell
    wrapper: _Wrapper | None = None
    try:
        while True:  # once more after each joblib array stepped over
            for op, arg, _pos in pickletools.genops(stream):
                out.opcodes += 1
                if out.opcodes > _MAX_OPS:
                    raise ValueError("the pickle has too many opcodes to scan")
                name = op.name
                if name == "PROTO":
                    out.protocol = int(arg)  # type: ignore[arg-type]
                elif name in _STRING_OPS:
                    text = arg.decode("latin-1") if isinstance(arg, bytes) else str(arg)
                    recent.append(text)
                    if wrapper is not None:
                        wrapper.saw_string(text)
                elif name in _INT_OPS:
                    recent.append(int(arg) if isinstance(arg, int) else arg)
                    if wrapper is not None and isinstance(arg, int):
                        wrapper.saw_int(arg)
                elif name in ("GLOBAL", "INST", "STACK_GLOBAL"):
                    ref_obj: GlobalRef | None = None
                    if name != "STACK_GLOBAL":
                        module, _, attr = str(arg).partition(" ")
                        ref_obj = _python3_name(module, attr)
                    elif len(recent) >= 2 and all(isinstance(v, str) for v in recent[-2:]):
                        ref_obj = _python3_name(str(recent[-2]), str(recent[-1]))
                    if name == "STACK_GLOBAL":
                        del recent[-2:]
                    _record(out, ref_obj.dotted if ref_obj else "<unresolvable STACK_GLOBAL>")
                    recent.append(ref_obj)
                    dotted = ref_obj.dotted if ref_obj else ""
                    if dotted in _JOBLIB_WRAPPERS:
                        wrapper = _Wrapper()
                        if "joblib" not in out.containers:
                            out.containers.append("joblib")
                    elif wrapper is not None and dotted == "numpy.dtype":
                        wrapper.dtype_ref = True
                elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                    memo[int(arg)] = recent[-1] if recent else None  # type: ignore[arg-type]
                elif name == "MEMOIZE":
                    memo[len(memo)] = recent[-1] if recent else None
                elif name in ("BINGET", "LONG_BINGET", "GET"):
                    got = memo.get(int(arg))  # type: ignore[arg-type]
                    recent.append(got)
                    if isinstance(got, GlobalRef) and got.dotted in _JOBLIB_WRAPPERS:
                        wrapper = _Wrapper()  # the next array's wrapper, its class memoized
                    elif wrapper is not None and isinstance(got, GlobalRef):
                        wrapper.dtype_ref = wrapper.dtype_ref or got.dotted == "numpy.dtype"
                    elif wrapper is not None and isinstance(got, str):
                        wrapper.saw_string(got)
                    elif wrapper is not None and isinstance(got, _Dtype) and wrapper.key == "dtype":
                        wrapper.descr = wrapper.descr or got.descr  # a dtype used before
                elif name in ("EXT1", "EXT2", "EXT4"):
                    _record(out, f"<copyreg extension {arg}>")
                elif name == "BINPERSID":
                    _storage(recent, out)
                elif name == "REDUCE":
                    recent.append(_dtype_made(recent))
                elif name == "BUILD" and wrapper is not None and wrapper.armed:
                    _skip_array(stream, wrapper, out)
                    wrapper = None
                    recent.append(_OPAQUE)
                    break  # a fresh walk from just past the array
                elif name == "STOP":
                    out.end = stream.tell()
                    return
                else:
                    recent.append(_OPAQUE)
                if len(recent) > 64:
                    del recent[:-32]
            else:
                break
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
