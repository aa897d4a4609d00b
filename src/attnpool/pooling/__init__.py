"""Poolings over time: ``feat [..., T, C]`` (+ optional bool ``mask [..., T]``) -> ``[..., C]``."""

from .attention import AttentionPool
from .base import TemporalPool
from .gated import GatedAttentionPool
from .last import LastPool
from .max import MaxPool
from .mean import MeanPool
from .mixed import AttentionMeanPool
from .multihead import MultiHeadAttentionPool
from .registry import POOLS, make_pool

__all__ = [
    "AttentionMeanPool",
    "AttentionPool",
    "GatedAttentionPool",
    "LastPool",
    "MaxPool",
    "MeanPool",
    "MultiHeadAttentionPool",
    "POOLS",
    "TemporalPool",
    "make_pool",
]
