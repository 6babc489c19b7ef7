"""Keras HDF5 via h5py: config and versions from attributes, datasets read in slices."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from integrations.errors import InvalidModelFormat
from integrations.tee.inspect.collector import Collector

SLICE_ELEMS = 4 * 1024 * 1024
MAX_DATASETS = 1_000_000


def read_keras_h5(path: Path, c: Collector) -> None:
    """Walk every dataset; flag Lambda layers, whose config carries marshalled code."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InvalidModelFormat(f"The HDF5 file does not open ({exc}).") from exc
    with f:
        for key in ("keras_version", "backend", "training_config"):
            if key in f.attrs:
                c.meta(key, _text(f.attrs[key]))
        config = f.attrs.get("model_config")
        if config is not None:
            _check_config(_text(config), c)
        else:
            c.finding("warning", "keras_no_config", "The HDF5 file has no Keras model_config.")
        datasets: list[tuple[str, h5py.Dataset]] = []

        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                if len(datasets) >= MAX_DATASETS:
                    raise InvalidModelFormat("The HDF5 file has too many datasets.")
                datasets.append((name, obj))

        f.visititems(visit)
        c.tensor_count = 0
        c.parameter_count = 0
        for name, ds in datasets:
            dtype = ds.dtype
            nbytes = int(ds.size) * dtype.itemsize
            c.tensor(name, dtype.name, ds.shape or (), nbytes)
            if dtype.kind == "f" and ds.size and c.budget_for(nbytes):
                flat_rows = ds.shape[0] if ds.shape else 1
                row_elems = max(1, int(ds.size) // max(flat_rows, 1))
                rows_per_slice = max(1, SLICE_ELEMS // row_elems)
                if not ds.shape:
                    c.values(np.asarray(ds[()], dtype=dtype).reshape(-1), nbytes)
                    continue
                for start in range(0, flat_rows, rows_per_slice):
                    part = np.asarray(ds[start : start + rows_per_slice])
                    c.values(part.reshape(-1), part.nbytes)
        c.layout_verified = True


def _text(value: object) -> str:
    """HDF5 attributes come back as bytes or str."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _check_config(config: str, c: Collector) -> None:
    """Record the model class and flag layers that would run embedded code."""
    try:
        parsed = json.loads(config)
    except json.JSONDecodeError:
        c.finding("warning", "keras_bad_config", "The Keras model_config is not valid JSON.")
        return
    if isinstance(parsed, dict):
        c.meta("model_class", parsed.get("class_name", ""))
    lambdas = config.count('"class_name": "Lambda"') + config.count('"class_name":"Lambda"')
    if lambdas:
        c.finding(
            "critical",
            "keras_lambda_layer",
            f"The model has {lambdas} Lambda layer(s); loading them runs embedded Python code.",
        )
