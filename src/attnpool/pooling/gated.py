"""Gated attention pooling (Ilse, Tomczak & Welling, "Attention-based Deep Multiple Instance Learning", 2018)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import TemporalPool, _check_positive_float, check_param_dtype, hidden_width
from .functional import masked_softmax, weighted_sum, zero_masked


class GatedAttentionPool(TemporalPool):
    """Gated attention: ``score_t = w^T (tanh(V h_t) * sigmoid(U h_t))``, softmax over time, weighted sum.

    The sigmoid gate lets the score depend on h non-monotonically where tanh alone saturates (Ilse et al. 2018).

    Args:
        in_features: channel count C.
        hidden_features: width H of V and U (default: ``in_features // 2``, at least 1).
        temperature: scores are divided by it before the softmax (default: 1.0).
        device: where the parameters are created (default: torch's default device).
        dtype: the parameters' floating dtype (default: torch's default dtype).

    Shapes: feat ``[..., T, C]``, mask ``[..., T]`` -> pooled ``[..., C]``, weights ``[..., T]``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        *,
        temperature: float = 1.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(in_features, device=device, dtype=dtype)
        factory_kwargs = {"device": device, "dtype": dtype}
        hidden_features = hidden_width(in_features, hidden_features)
        _check_positive_float("temperature", temperature)
        self.hidden_features = hidden_features
        self.temperature = float(temperature)
        self.attention_V = nn.Linear(in_features, hidden_features, **factory_kwargs)
        self.attention_U = nn.Linear(in_features, hidden_features, **factory_kwargs)
        self.attention_w = nn.Linear(hidden_features, 1, **factory_kwargs)

    def reset_parameters(self) -> None:
        for layer in (self.attention_V, self.attention_U, self.attention_w):
            layer.reset_parameters()

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        check_param_dtype(feat, self.attention_w.weight, type(self).__name__)
        feat = zero_masked(feat, mask)
        gate = torch.tanh(self.attention_V(feat)) * torch.sigmoid(self.attention_U(feat))  # [..., T, H]
        scores = self.attention_w(gate).squeeze(-1) / self.temperature  # [..., T]
        weights = masked_softmax(scores, mask, dim=-1)
        return weighted_sum(feat, weights), weights

    def extra_repr(self) -> str:
        return f"{self.in_features}, hidden={self.hidden_features}"
