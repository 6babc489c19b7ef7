"""Walrus storage cost, estimated before an upload.

Walrus charges per MiB of *encoded* size per epoch. The RS2 encoding is about
5x the blob plus a fixed metadata overhead; this module uses
``encoded = 5 * n + 66_033_915``, which reproduces the reference example (a
17-byte blob encodes to 66,034,000 bytes). A chunked upload stores every chunk
and one manifest blob, and each pays the overhead, so small chunks cost more.

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
ENCODING_FACTOR = 5
ENCODING_OVERHEAD_BYTES = 66_033_915
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


def encoded_length(size: int) -> int:
    """Encoded (stored) size in bytes of a blob of ``size`` bytes."""
    if size < 0:
        raise ValueError("size must not be negative")
    return ENCODING_FACTOR * size + ENCODING_OVERHEAD_BYTES


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
