"""Mean pooling over the valid steps: the baseline attention pooling is compared against."""

from __future__ import annotations

from torch import Tensor

from .base import TemporalPool
from .functional import mean_weights, weighted_sum, zero_masked


class MeanPool(TemporalPool):
    """Mean over valid steps: ``pooled = sum_t m_t h_t / sum_t m_t``; every valid step weighs ``1 / n_valid``.

    Shapes: feat ``[..., T, C]``, mask ``[..., T]`` -> pooled ``[..., C]``, weights ``[..., T]``.
    """

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        weights = mean_weights(mask, feat.shape[:-1], feat.dtype, feat.device)
        return weighted_sum(zero_masked(feat, mask), weights), weights
