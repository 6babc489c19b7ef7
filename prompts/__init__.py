"""Reply templates, FAQ knowledge and system prompts (data, loaded once)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

__all__ = ["load_text", "load_yaml"]


@cache
def load_yaml(name: str) -> dict[str, object]:
    """A YAML file of this package as a dict."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    # libyaml's loader where it is built (it is with PyYAML's wheels): several times faster
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ValueError(f"{name} must hold a mapping")
    return data


@cache
def load_text(name: str) -> str:
    """A text file of this package."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
