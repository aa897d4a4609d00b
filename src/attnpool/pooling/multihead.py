"""Multi-head attention pooling: k score heads, each pooling its own group of C / k channels."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import TemporalPool, _check_positive_float, _check_positive_int, check_param_dtype, hidden_width
from .functional import masked_softmax, zero_masked


class MultiHeadAttentionPool(TemporalPool):
    """k attention heads over time; head j pools channels ``[j*C/k, (j+1)*C/k)`` with its own weights.

    The scoring MLP is the spec's with k outputs: ``Linear(C, H) -> ReLU -> Linear(H, k)``. With ``heads=1``
    this is :class:`AttentionPool`.

    Args:
        in_features: channel count C; must be divisible by ``heads``.
        heads: number of heads k (default: 4).
        hidden_features: hidden width H (default: ``in_features // 2``, at least 1).
        temperature: scores are divided by it before the softmax (default: 1.0).
        device: where the parameters are created (default: torch's default device).
        dtype: the parameters' floating dtype (default: torch's default dtype).

    Shapes: feat ``[..., T, C]``, mask ``[..., T]`` -> pooled ``[..., C]``, weights ``[..., T, k]``.
    """

    def __init__(
        self,
        in_features: int,
        heads: int = 4,
        hidden_features: int | None = None,
        *,
        temperature: float = 1.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(in_features, device=device, dtype=dtype)
        factory_kwargs = {"device": device, "dtype": dtype}
        _check_positive_int("heads", heads)
        if in_features % heads:
            raise ValueError(f"in_features must be divisible by heads, got in_features={in_features}, heads={heads}")
        hidden_features = hidden_width(in_features, hidden_features)
        _check_positive_float("temperature", temperature)
        self.heads = heads
        self.hidden_features = hidden_features
        self.temperature = float(temperature)
        self.attention = nn.Sequential(
            nn.Linear(in_features, hidden_features, **factory_kwargs),
            nn.ReLU(),
            nn.Linear(hidden_features, heads, **factory_kwargs),
        )

    def reset_parameters(self) -> None:
        for layer in (self.attention[0], self.attention[2]):
            layer.reset_parameters()

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        check_param_dtype(feat, self.attention[0].weight, type(self).__name__)
        feat = zero_masked(feat, mask)
        scores = self.attention(feat) / self.temperature  # [..., T, k]
        head_mask = None if mask is None else mask.unsqueeze(-2)  # [..., 1, T]
        weights = masked_softmax(scores.transpose(-1, -2), head_mask, dim=-1)  # [..., k, T]
        groups = feat.unflatten(-1, (self.heads, -1)).transpose(-2, -3)  # [..., T, k, C/k] -> [..., k, T, C/k]
        pooled = (weights.unsqueeze(-2) @ groups).squeeze(-2)  # [..., k, C/k]
        return pooled.flatten(-2), weights.transpose(-1, -2)  # [..., C], [..., T, k]

    def extra_repr(self) -> str:
        return f"{self.in_features}, heads={self.heads}, hidden={self.hidden_features}"
