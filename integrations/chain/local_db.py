"""SQLite storage of the local ledger: schema, connection, and the per-transaction context.

One ledger file may be shared by several processes: WAL journal, a busy
timeout, and every write inside ``BEGIN IMMEDIATE`` so transactions serialize.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from integrations.chain.ids import derive_object_id
from integrations.chain.port import ChainEvent, ChainObject
from integrations.errors import InsufficientFunds, ObjectNotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    address TEXT PRIMARY KEY, mist INTEGER NOT NULL, faucet_mist INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, short_type TEXT NOT NULL, owner TEXT NOT NULL,
    version INTEGER NOT NULL, fields TEXT NOT NULL, deleted_by TEXT
);
CREATE INDEX IF NOT EXISTS objects_by_owner ON objects (owner, short_type);
CREATE INDEX IF NOT EXISTS objects_by_type ON objects (short_type);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, tx_digest TEXT NOT NULL,
    fields TEXT NOT NULL, timestamp_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    sender TEXT NOT NULL, request_id TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, args_hash TEXT NOT NULL, receipt TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL, PRIMARY KEY (sender, request_id)
);
"""

MAX_BALANCE = (1 << 63) - 1  # SQLite INTEGER


def connect(path: Path) -> sqlite3.Connection:
    """Open the ledger file (created if absent) in WAL mode with autocommit off-by-hand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=15.0)
    conn.execute("PRAGMA busy_timeout=15000")
    # Switching a new file to WAL, and creating its tables, can fail at once with "database
    # is locked" when several processes (workers starting together) open it at the same
    # moment: SQLite does not wait on that lock, so we do.
    deadline = time.monotonic() + 15.0
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.02)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    """One value of the meta table."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def meta_add(conn: sqlite3.Connection, key: str, amount: int) -> None:
    """Add to an integer counter of the meta table."""
    current = int(meta_get(conn, key) or 0)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(current + amount)),
    )


def row_to_object(row: sqlite3.Row | tuple[object, ...]) -> ChainObject:
    """A row of ``objects`` (id, type, owner, version, fields) as a ``ChainObject``."""
    fields = json.loads(str(row[4]))
    return ChainObject(
        object_id=str(row[0]),
        type=str(row[1]),
        owner=str(row[2]),
        version=int(str(row[3])),
        fields=fields,
    )


def load_object(conn: sqlite3.Connection, object_id: str, short_type: str | None) -> ChainObject:
    """A live object by id (and short type, when given); ``ObjectNotFound`` otherwise."""
    row = conn.execute(
        "SELECT id, type, owner, version, fields, short_type, deleted_by FROM objects WHERE id = ?",
        (object_id.lower(),),
    ).fetchone()
    if row is None:
        raise ObjectNotFound(f"No object {object_id} exists on this ledger.")
    if row[6] is not None:
        raise ObjectNotFound(f"Object {object_id} was consumed by transaction {row[6]}.")
    if short_type is not None and row[5] != short_type:
        raise ObjectNotFound(f"Object {object_id} is a {row[5]}, not a {short_type}.")
    return row_to_object(row)


def balance_of(conn: sqlite3.Connection, address: str) -> int | None:
    """The balance in MIST, or None for an address never seen."""
    row = conn.execute("SELECT mist FROM accounts WHERE address = ?", (address,)).fetchone()
    return None if row is None else int(row[0])


def credit(conn: sqlite3.Connection, address: str, mist: int, *, faucet: bool = False) -> None:
    """Add MIST to an account (creating it)."""
    current = balance_of(conn, address) or 0
    if current + mist > MAX_BALANCE:
        raise InsufficientFunds("That amount would overflow the account balance.")
    conn.execute(
        "INSERT INTO accounts (address, mist, faucet_mist) VALUES (?, ?, ?) "
        "ON CONFLICT(address) DO UPDATE SET mist = mist + excluded.mist, "
        "faucet_mist = faucet_mist + excluded.faucet_mist",
        (address, mist, mist if faucet else 0),
    )


def debit(conn: sqlite3.Connection, address: str, mist: int, what: str) -> None:
    """Take MIST from an account; ``InsufficientFunds`` if it cannot pay."""
    current = balance_of(conn, address) or 0
    if current < mist:
        raise InsufficientFunds(f"The wallet holds {current} MIST but {what} needs {mist} MIST.")
    conn.execute("UPDATE accounts SET mist = mist - ? WHERE address = ?", (mist, address))


@dataclass
class TxContext:
    """What one executing transaction sees and produces (the Move ``TxContext`` + effects)."""

    conn: sqlite3.Connection
    sender: str
    digest: str
    now_ms: int
    package_id: str
    gas_mist: int
    created: list[str] = field(default_factory=list)
    events: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def type_of(self, module: str, name: str) -> str:
        """The full Move type string, e.g. ``0x…::marketplace::PendingModel``."""
        return f"{self.package_id}::{module}::{name}"

    def new_object(self, module: str, name: str, owner: str, fields: dict[str, object]) -> str:
        """Create an object; its id derives from the tx digest and creation index."""
        object_id = derive_object_id(self.digest, len(self.created))
        body = {"id": object_id, **fields}
        self.conn.execute(
            "INSERT INTO objects (id, type, short_type, owner, version, fields) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            (object_id, self.type_of(module, name), name, owner, json.dumps(body)),
        )
        self.created.append(object_id)
        return object_id

    def save(self, obj: ChainObject) -> None:
        """Write back a mutated object with its version bumped."""
        self.conn.execute(
            "UPDATE objects SET fields = ?, owner = ?, version = version + 1 WHERE id = ?",
            (json.dumps(obj.fields), obj.owner, obj.object_id),
        )

    def consume(self, object_id: str) -> None:
        """Mark an object as taken by value (wrapped or deleted) by this transaction."""
        self.conn.execute(
            "UPDATE objects SET deleted_by = ?, version = version + 1 WHERE id = ?",
            (self.digest, object_id),
        )

    def emit(self, name: str, fields: dict[str, object], module: str = "marketplace") -> None:
        """Queue an event; it is written with its sequence number at commit."""
        self.events.append((module, name, fields))

    def write_events(self) -> tuple[ChainEvent, ...]:
        """Persist queued events, returning them with their sequence numbers."""
        out = []
        for module, name, fields in self.events:
            full = self.type_of(module, name)
            cur = self.conn.execute(
                "INSERT INTO events (type, tx_digest, fields, timestamp_ms) VALUES (?, ?, ?, ?)",
                (full, self.digest, json.dumps(fields), self.now_ms),
            )
            seq = int(cur.lastrowid or 0)
            out.append(ChainEvent(seq, full, self.digest, fields, self.now_ms))
        return tuple(out)
