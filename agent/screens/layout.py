"""Building blocks shared by the screens: fact grids, headed tables, and tolerant number readers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from agent.replies import human_duration

Data = Mapping[str, object]


def as_int(value: object) -> int:
    """An integer figure, or 0 where the data holds none."""
    try:
        return int(str(value))
    except ValueError:
        return 0


def as_num(value: object) -> float | None:
    """A number, or None where the data holds none (booleans are not numbers here)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def about(seconds: object) -> str:
    """An estimated duration in words: 'about 1 min 28 s', 'under a second' or 'unknown'."""
    s = as_num(seconds)
    if s is None:
        return "unknown"
    return "under a second" if s < 0.5 else f"about {human_duration(s)}"


def add_row(table: Table, *cells: RenderableType | str) -> None:
    """A row whose plain strings are text, never markup (titles and errors come from users)."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def facts(rows: Iterable[tuple[str, RenderableType | str]]) -> Table:
    """Label / value rows without borders."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        add_row(table, label, value)
    return table


def headed_table(title: str | None, *columns: str, right: Sequence[int] = ()) -> Table:
    """A table with a bold left title, a rule under the header, and right-aligned figures."""
    table = Table(
        title=Text(title, style="bold") if title else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for i, name in enumerate(columns):
        table.add_column(name, justify="right" if i in right else "left")
    return table


def as_mapping(value: object) -> Data:
    """A dataclass (typed results travel as objects on the custom stream) or a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value if isinstance(value, Mapping) else {}


def mappings(value: object) -> list[Data]:
    """The mappings (or dataclasses) of a list in the data; anything else yields none."""
    if not isinstance(value, list | tuple):
        return []
    return [m for m in (as_mapping(v) for v in value) if m]


def short(value: object, keep: int = 10) -> str:
    """A long id cut to its first ``keep`` characters."""
    text = str(value)
    return text if len(text) <= keep + 4 else f"{text[:keep]}…"
