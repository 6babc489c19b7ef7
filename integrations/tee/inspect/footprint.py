"""How a model file's bytes split between floating-point weights and the rest.

Reads only the declarations (names, dtypes, shapes) through the format's reader with
no statistics budget, so no tensor values are read: what an fp16, bf16 or int8 copy
of the file would weigh is computed from the file itself.

Example::

    fp = tensor_footprint(Path("model.safetensors"), "safetensors")
    print(fp.float_elements, fp.float_bytes, fp.other_bytes)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import prod
from pathlib import Path

from integrations.tee.inspect.collector import Collector
from integrations.tee.inspect.inspector import _parse
from integrations.tee.inspect.report import ModelFormat

_WIDTH = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}


@dataclass(frozen=True, slots=True)
class Footprint:
    """Floating-point elements and bytes by dtype; everything else in the file."""

    file_size: int
    float_elements: dict[str, int]  # dtype -> elements
    float_bytes: int
    tensors: int

    @property
    def other_bytes(self) -> int:
        """Bytes that stay whatever the precision: headers, graph, integer tensors."""
        return max(0, self.file_size - self.float_bytes)

    def size_at(self, width: int) -> int:
        """The file's size with every floating-point weight stored in ``width`` bytes
        (never larger than it is: a narrower dtype already in the file stays)."""
        weights = sum(n * min(_WIDTH[d], width) for d, n in self.float_elements.items())
        return self.other_bytes + weights

    @property
    def widest(self) -> str | None:
        """The widest float dtype in the file ('float32'), or None without float weights."""
        found = [d for d in self.float_elements if self.float_elements[d]]
        return max(found, key=lambda d: _WIDTH[d]) if found else None


class _Tally(Collector):
    def __init__(self) -> None:
        super().__init__(max_stats_bytes=0)
        self.elements: dict[str, int] = {}
        self.float_bytes = 0

    def tensor(self, name: str, dtype: str, shape: Iterable[int], nbytes: int | None) -> None:
        dims = tuple(int(d) for d in shape)
        super().tensor(name, dtype, dims, nbytes)
        if dtype in _WIDTH:
            n = prod(dims)
            self.elements[dtype] = self.elements.get(dtype, 0) + n
            self.float_bytes += nbytes if nbytes is not None else n * _WIDTH[dtype]


def tensor_footprint(path: Path, fmt: ModelFormat) -> Footprint:
    """The footprint of ``path`` (parsed as ``fmt``); raises ``InvalidModelFormat`` if it
    does not parse."""
    tally = _Tally()
    _parse(fmt, path, tally)
    return Footprint(
        file_size=path.stat().st_size,
        float_elements=dict(tally.elements),
        float_bytes=tally.float_bytes,
        tensors=tally.tensor_count or 0,
    )
