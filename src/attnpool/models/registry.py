"""Build a module by name from a registry (``ENCODERS``, ``MIXERS``), the way ``make_pool`` does for ``POOLS``."""

from __future__ import annotations

import inspect

from torch import nn


def registry_key(name) -> str | None:
    """The registry key of a user-written name: ``"Multi-Head"`` -> ``"multihead"`` (make_pool's rule)."""
    return name.lower().replace("-", "").replace("_", "") if isinstance(name, str) else None


def build(registry: dict[str, type[nn.Module]], what: str, name: str, *args, **shared) -> nn.Module:
    """``registry[name](*args, **options)``, where options are the ``shared`` ones the class's constructor takes.

    The factories offer every module the same options (``dropout``, ``adjacency``, ...) and each module takes
    the ones it has a use for, so a module added to the registry needs no change here. Values are never
    changed on the way: a module that cannot honour one raises.
    """
    key = registry_key(name)
    if key not in registry:
        raise ValueError(f"unknown {what} {name!r}; known {what}s: {', '.join(registry)}")
    cls = registry[key]
    takes = inspect.signature(cls).parameters
    return cls(*args, **{k: v for k, v in shared.items() if k in takes})


__all__ = ["build", "registry_key"]
