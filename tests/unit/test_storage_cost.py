"""Storage cost estimates follow the reference example and count every blob."""

import pytest

from integrations.storage.cost import (
    FROST_PER_WAL,
    blob_storage_cost_frost,
    chunk_sizes,
    encoded_length,
    estimate_storage_cost,
    format_wal,
)

MIB = 1024 * 1024


def test_reference_example_17_bytes_one_epoch() -> None:
    assert encoded_length(17) == 66_034_000
    assert blob_storage_cost_frost(17, epochs=1) == 132_300


def test_cost_scales_with_epochs_and_price() -> None:
    assert blob_storage_cost_frost(17, epochs=5) == 5 * 132_300
    assert blob_storage_cost_frost(17, epochs=1, price_frost_per_mib_epoch=1) == 63


def test_estimate_counts_chunks_plus_manifest() -> None:
    est = estimate_storage_cost(25 * MIB, chunk_size=10 * MIB, epochs=2)
    assert est.blobs == 4
    assert est.epochs == 2
    expected_chunks = sum(
        blob_storage_cost_frost(n, epochs=2) for n in (10 * MIB, 10 * MIB, 5 * MIB)
    )
    assert est.cost_frost > expected_chunks
    assert est.encoded_bytes == sum(encoded_length(n) for n in (10 * MIB, 10 * MIB, 5 * MIB)) + (
        encoded_length(256 + 3 * 200)
    )


def test_chunk_sizes_edges() -> None:
    assert chunk_sizes(0, 4) == [0]
    assert chunk_sizes(8, 4) == [4, 4]
    assert chunk_sizes(9, 4) == [4, 4, 1]
    with pytest.raises(ValueError):
        chunk_sizes(1, 0)


def test_format_wal_is_exact() -> None:
    assert FROST_PER_WAL == 10**9
    assert format_wal(132_300) == "0.000132300 WAL"
    assert format_wal(3 * FROST_PER_WAL + 1) == "3.000000001 WAL"
    assert format_wal(-5) == "-0.000000005 WAL"


@pytest.mark.parametrize(
    ("size", "encoded"),
    [
        (0, 66_034_000),
        (1, 66_034_000),
        (1024, 66_034_000),
        (3 * MIB, 80_048_000),
        (64 * MIB, 366_334_000),
        (334 * 667 * 2, 66_034_000),
        (334 * 667 * 2 + 1, 66_034_000 + 2 * 1001 * 1000),
    ],
)
def test_encoded_length_is_walrus_rs2_on_1000_shards(size: int, encoded: int) -> None:
    # The official encoder's figures (tests/conformance/test_conformance_walrus.py checks them).
    assert encoded_length(size) == encoded


def test_a_blob_beyond_the_largest_symbol_is_refused_with_advice() -> None:
    largest = 334 * 667 * 65_534
    assert encoded_length(largest) == 64_032_000 + 1_001_000 * 65_534
    with pytest.raises(ValueError, match="store it in chunks"):
        encoded_length(largest + 1)
