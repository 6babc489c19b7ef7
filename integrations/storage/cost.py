"""Walrus storage cost, estimated before an upload.

Walrus charges per MiB of *encoded* size per epoch. ``encoded_length`` is
Walrus's own computation for the RS2 encoding on 1000 shards (walrus-core
``encoded_blob_length_for_n_shards``, the same arithmetic as the official
TypeScript SDK): every shard stores one primary and one secondary sliver and
a copy of the metadata, so

* ``f = (shards - 1) // 3``; primary source symbols ``shards - 2f`` (334),
  secondary ``shards - f`` (667);
* symbol size = ``ceil(max(n, 1) / (334 * 667))`` rounded up to even (RS2
  needs 2-byte symbols), at most 65,534 bytes;
* encoded = ``shards * (shards * 64 + 32)`` (two 32-byte hashes per sliver
  pair and the blob id, on every shard) ``+ shards * (334 + 667) * symbol``.

It reproduces the reference example (a 17-byte blob encodes to 66,034,000
bytes) and the official encoder ``@mysten/walrus-wasm`` (a conformance test
checks 0 B, 1 B, 1 KiB, 3 MiB and 64 MiB). A chunked upload stores every chunk
and one manifest blob, and each pays the metadata, so small chunks cost more.

Example::

    est = estimate_storage_cost(17, chunk_size=10 * 2**20, epochs=1)
    assert est.blobs == 2  # one chunk and the manifest
    assert blob_storage_cost_frost(17, epochs=1) == 132_300
    print(format_wal(est.cost_frost))  # "0.000264600 WAL"
"""

from __future__ import annotations

from dataclasses import dataclass

FROST_PER_WAL = 10**9
MIB = 1024 * 1024
DEFAULT_PRICE_FROST_PER_MIB_EPOCH = 2100
N_SHARDS = 1000
DIGEST_BYTES = 32
BLOB_ID_BYTES = 32
RS2_SYMBOL_ALIGNMENT = 2
MAX_SYMBOL_BYTES = 2**16 - 1
MANIFEST_BASE_BYTES = 256
MANIFEST_BYTES_PER_CHUNK = 200  # one JSON chunk entry: index, offset, size, sha256, blob id


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What storing one file as chunks plus a manifest is expected to cost."""

    blobs: int
    encoded_bytes: int
    cost_frost: int
    epochs: int

    @property
    def cost_wal(self) -> str:
        """The cost in WAL, as text (``format_wal``)."""
        return format_wal(self.cost_frost)


def source_symbols(n_shards: int = N_SHARDS) -> tuple[int, int]:
    """RS2 source symbols per (primary, secondary) sliver: ``(n - 2f, n - f)``."""
    if n_shards < 1:
        raise ValueError("n_shards must be at least 1")
    max_faulty = (n_shards - 1) // 3
    return n_shards - 2 * max_faulty, n_shards - max_faulty


def symbol_size(size: int, n_shards: int = N_SHARDS) -> int:
    """Bytes per RS2 symbol for a blob of ``size`` bytes (even, at least 2)."""
    if size < 0:
        raise ValueError("size must not be negative")
    primary, secondary = source_symbols(n_shards)
    symbol = -(-max(size, 1) // (primary * secondary))
    symbol += -symbol % RS2_SYMBOL_ALIGNMENT
    if symbol > MAX_SYMBOL_BYTES:
        largest = primary * secondary * (MAX_SYMBOL_BYTES - MAX_SYMBOL_BYTES % 2)
        raise ValueError(
            f"a blob of {size} bytes is larger than Walrus can store in one blob "
            f"({largest} bytes): store it in chunks"
        )
    return symbol


def encoded_length(size: int, n_shards: int = N_SHARDS) -> int:
    """Encoded (stored) size in bytes of a blob of ``size`` bytes, as Walrus computes it."""
    primary, secondary = source_symbols(n_shards)
    slivers = n_shards * (primary + secondary) * symbol_size(size, n_shards)
    metadata = n_shards * (n_shards * DIGEST_BYTES * 2 + BLOB_ID_BYTES)
    return metadata + slivers


def encoded_cost_frost(
    encoded: int, *, epochs: int, price_frost_per_mib_epoch: int = DEFAULT_PRICE_FROST_PER_MIB_EPOCH
) -> int:
    """Cost of ``encoded`` bytes for ``epochs`` epochs: whole MiB, rounded up."""
    units = -(-encoded // MIB)
    return units * price_frost_per_mib_epoch * epochs


def blob_storage_cost_frost(
    size: int, *, epochs: int, price_frost_per_mib_epoch: int = DEFAULT_PRICE_FROST_PER_MIB_EPOCH
) -> int:
    """Cost in FROST of one blob of ``size`` bytes for ``epochs`` epochs."""
    return encoded_cost_frost(
        encoded_length(size), epochs=epochs, price_frost_per_mib_epoch=price_frost_per_mib_epoch
    )


def chunk_sizes(size: int, chunk_size: int) -> list[int]:
    """Sizes of the chunks a file of ``size`` bytes is cut into (one empty chunk for 0 bytes)."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    if size == 0:
        return [0]
    full, rest = divmod(size, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def estimate_storage_cost(
    size: int,
    *,
    chunk_size: int,
    epochs: int,
    price_frost_per_mib_epoch: int = DEFAULT_PRICE_FROST_PER_MIB_EPOCH,
) -> CostEstimate:
    """Estimate storing a ``size``-byte file as chunks plus one manifest blob.

    Example::

        est = estimate_storage_cost(1_000_000_000, chunk_size=10 * 2**20, epochs=3)
        print(est.blobs, est.encoded_bytes, format_wal(est.cost_frost))
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    chunks = chunk_sizes(size, chunk_size)
    manifest = MANIFEST_BASE_BYTES + MANIFEST_BYTES_PER_CHUNK * len(chunks)
    sizes = [*chunks, manifest]
    encoded = [encoded_length(n) for n in sizes]
    cost = sum(
        encoded_cost_frost(e, epochs=epochs, price_frost_per_mib_epoch=price_frost_per_mib_epoch)
        for e in encoded
    )
    return CostEstimate(
        blobs=len(sizes), encoded_bytes=sum(encoded), cost_frost=cost, epochs=epochs
    )


def format_wal(frost: int) -> str:
    """``format_wal(132_300) == "0.000132300 WAL"``: exact, nine decimals, no float."""
    sign = "-" if frost < 0 else ""
    whole, frac = divmod(abs(frost), FROST_PER_WAL)
    return f"{sign}{whole}.{frac:09d} WAL"
