"""Build any pooling by name: ``make_pool("attention", 32)``."""

from __future__ import annotations

from .attention import AttentionPool
from .base import TemporalPool
from .gated import GatedAttentionPool
from .last import LastPool
from .max import MaxPool
from .mean import MeanPool
from .mixed import AttentionMeanPool
from .multihead import MultiHeadAttentionPool

POOLS: dict[str, type[TemporalPool]] = {
    "attention": AttentionPool,
    "mean": MeanPool,
    "max": MaxPool,
    "last": LastPool,
    "gated": GatedAttentionPool,
    "multihead": MultiHeadAttentionPool,
    "attentionmean": AttentionMeanPool,  # written "attention-mean": attention mixed with the mean by a gate
}


def make_pool(name: str, in_features: int, **kwargs) -> TemporalPool:
    """Build the pooling called ``name`` (one of :data:`POOLS`) over ``in_features`` channels.

    Keyword arguments go to the pooling's constructor (for example ``hidden_features``, ``heads``).
    """
    key = name.lower().replace("-", "").replace("_", "") if isinstance(name, str) else name
    if key not in POOLS:
        raise ValueError(f"unknown pool name {name!r}; known names: {', '.join(POOLS)}")
    return POOLS[key](in_features, **kwargs)
