"""Max pooling over the valid steps, channel by channel."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import TemporalPool


class MaxPool(TemporalPool):
    """Channel-wise maximum over valid steps: ``pooled[c] = max_t h_t[c]``; a row with no valid step gives 0.

    Its ``weights [..., T]`` say which share of the C channels took their maximum at each step (they sum to 1
    over valid steps), so max pooling can be explained like the others.

    Shapes: feat ``[..., T, C]``, mask ``[..., T]`` -> pooled ``[..., C]``, weights ``[..., T]``.
    """

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        if mask is not None:
            feat = feat.masked_fill(~mask.unsqueeze(-1), float("-inf"))
        pooled, where = feat.max(dim=-2)  # [..., C], [..., C]
        if mask is not None:
            has_valid = mask.any(dim=-1, keepdim=True)  # [..., 1]
            pooled = torch.where(has_valid, pooled, torch.zeros_like(pooled))
        # weights[..., t] = share of channels whose maximum is at step t
        # Out of place: under torch.func.vmap an in-place scatter into a fresh (unbatched) tensor fails.
        hits = torch.zeros(feat.shape[:-1], dtype=feat.dtype, device=feat.device)
        hits = hits.scatter_add(-1, where, torch.ones_like(where, dtype=feat.dtype))
        weights = hits / feat.shape[-1]
        if mask is not None:
            weights = weights * has_valid.to(weights.dtype)
        return pooled, weights.detach()
