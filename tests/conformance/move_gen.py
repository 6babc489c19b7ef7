"""Write Move test code from values the product produced.

* ``struct_defs`` / ``literal``: a Move mirror of a BCS ``Schema`` (the signed
  result's layout) and a value of it, so the real Move VM serializes what the
  product signed.
* ``Expected``: the BCS bytes of a contract object or event as the embedded
  ledger holds it, built in Move as literal bytes with object ids spliced in
  from the scenario's own variables (ids differ between the two worlds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from integrations.tee.bcs import FieldType, Schema, encode_value


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _move_type(t: FieldType, prefix: str, name: str) -> str:
    if isinstance(t, str):
        return {"u8": "u8", "u64": "u64", "bool": "bool", "string": "String"}[t]
    if isinstance(t, tuple) and len(t) == 2 and t[0] in ("option", "vector"):
        inner = _move_type(t[1], prefix, name)
        return f"Option<{inner}>" if t[0] == "option" else f"vector<{inner}>"
    return prefix + _camel(name)


def struct_defs(schema: Schema, prefix: str, top: str) -> str:
    """``public struct`` declarations (copy, drop) for ``schema`` and its nested structs."""
    out: list[str] = []

    def walk(s: Schema, struct_name: str) -> None:
        fields = []
        for name, t in s:
            if not isinstance(t, str) and not (
                isinstance(t, tuple) and len(t) == 2 and t[0] in ("option", "vector")
            ):
                walk(t, prefix + _camel(name))  # type: ignore[arg-type]
            fields.append(f"        {name}: {_move_type(t, prefix, name)},")
        out.append(
            f"    public struct {struct_name} has copy, drop {{\n" + "\n".join(fields) + "\n    }"
        )

    walk(schema, top)
    return "\n".join(out)


def literal(value: object, t: FieldType, prefix: str, name: str = "") -> str:
    """A Move expression for ``value`` of type ``t``."""
    if isinstance(t, str):
        if t == "u8":
            return f"{value}u8"
        if t == "u64":
            return f"{value}u64"
        if t == "bool":
            return "true" if value else "false"
        if t == "string":
            assert isinstance(value, str)
            return f'std::string::utf8(x"{value.encode().hex()}")'
        raise ValueError(t)
    if isinstance(t, tuple) and len(t) == 2 and t[0] == "option":
        if value is None:
            return "std::option::none()"
        return f"std::option::some({literal(value, t[1], prefix, name)})"
    if isinstance(t, tuple) and len(t) == 2 and t[0] == "vector":
        assert isinstance(value, Sequence)
        items = ", ".join(literal(v, t[1], prefix, name) for v in value)
        return f"vector[{items}]"
    assert isinstance(value, Mapping)
    schema: Schema = t  # type: ignore[assignment]
    parts = ", ".join(f"{n}: {literal(value[n], ft, prefix, n)}" for n, ft in schema)
    return f"{prefix}{_camel(name)} {{ {parts} }}"


@dataclass
class Expected:
    """Expected BCS bytes, as Move statements appending to a vector ``var``."""

    var: str
    parts: list[str] = field(default_factory=list)
    _pending: bytearray = field(default_factory=bytearray)

    def id(self, move_var: str) -> Expected:
        """An object id: taken from the scenario variable ``move_var`` (an ``ID``)."""
        self._flush()
        self.parts.append(f"{self.var}.append(std::bcs::to_bytes(&{move_var}));")
        return self

    def address(self, addr: str) -> Expected:
        raw = bytes.fromhex(addr.removeprefix("0x"))
        assert len(raw) == 32
        self._pending += raw
        return self

    def value(self, value: object, t: FieldType) -> Expected:
        self._pending += encode_value(value, t)
        return self

    def _flush(self) -> None:
        if self._pending:
            self.parts.append(f'{self.var}.append(x"{self._pending.hex()}");')
            self._pending = bytearray()

    def move(self) -> str:
        """``let mut var = vector[]; ...`` statements."""
        self._flush()
        return "\n        ".join([f"let mut {self.var} = vector<u8>[];", *self.parts])
