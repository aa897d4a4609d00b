"""Attention pooling with a learned residual mix of the mean: ``make_pool("attention-mean", C)``.

``a = softmax_t(score_t / temperature)``, ``w_t = g * a_t + (1 - g) / n_valid``, ``g = sigmoid(gate)``,
``pooled = sum_t w_t h_t``.

Why (issue 9, benchmarks/results/uea_accuracy.md): on outline sets such as OSULeaf (a leaf contour read
from an arbitrary start point, 200 training series) plain softmax attention fits the training split and then
generalises worse than the mean (0.83 against 0.90 over 3 seeds): early in training, when the scores are
still noise, the softmax sends most of the gradient through a few steps and the pooled vector rests on
them. The mean part keeps every step in the pooled vector and in the gradient; the gate learns how much
the scores are trusted. The weights are still one per step and sum to 1 over valid steps, so they explain
the pooled vector exactly, as AttentionPool's do (with ``g < 1`` they are flatter: the scores' ranking,
which ``explain`` and the pointing game read, is the softmax's).

The gate starts at -2 (``g = 0.12``): the pooling starts near the mean and moves to attention as far as
training finds the scores useful. Measured in the issue-9 harness (recipe R2K, OSULeaf seed 0): gate start
-2 gave 0.917 against 0.901 for a start at 0 (``g = 0.5``) and 0.888 for plain attention; over seeds 0-2,
0.912 against 0.908 for the mean (ArrowHead, 3-member ensembles: 0.840 against 0.815).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import TemporalPool, _check_positive_float, check_param_dtype, hidden_width, scoring_mlp
from .functional import masked_softmax, mean_weights, weighted_sum, zero_masked


class AttentionMeanPool(TemporalPool):
    """Attention pooling mixed with mean pooling by a learned gate (see the module docstring for the formula).

    ``self.attention`` is the scoring MLP of :class:`~attnpool.AttentionPool` (``Linear(C, H) -> ReLU ->
    Linear(H, 1)``, same keys), and ``self.gate`` a scalar whose sigmoid is the attention share ``g``.

    Args:
        in_features: channel count C.
        hidden_features: hidden width H of the scoring MLP (default: ``in_features // 2``, at least 1).
        temperature: scores are divided by it before the softmax (default: 1.0).
        gate: the gate's initial value, before the sigmoid (default: -2.0, so ``g`` starts at
            ``sigmoid(-2) = 0.12``, near the mean; see the module docstring).
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
        gate: float = -2.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(in_features, device=device, dtype=dtype)
        factory_kwargs = {"device": device, "dtype": dtype}
        hidden_features = hidden_width(in_features, hidden_features)
        _check_positive_float("temperature", temperature)
        if isinstance(gate, bool) or not isinstance(gate, (int, float)) or gate != gate or abs(gate) == float("inf"):
            raise ValueError(f"gate must be a finite number, got {gate!r}")
        self.hidden_features = hidden_features
        self.temperature = float(temperature)
        self.initial_gate = float(gate)
        self.attention = scoring_mlp(in_features, hidden_features, **factory_kwargs)
        self.gate = nn.Parameter(torch.full((), self.initial_gate, **factory_kwargs))

    def reset_parameters(self) -> None:
        for layer in (self.attention[0], self.attention[2]):
            layer.reset_parameters()
        with torch.no_grad():
            self.gate.fill_(self.initial_gate)

    @property
    def share(self) -> float:
        """``g``, the attention share of the weights (the rest is the mean's)."""
        return float(torch.sigmoid(self.gate.detach()))

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        check_param_dtype(feat, self.attention[0].weight, type(self).__name__)
        feat = zero_masked(feat, mask)  # scores of masked steps must not see NaN/inf there either
        scores = self.attention(feat).squeeze(-1) / self.temperature  # [..., T, C] -> [..., T]
        g = torch.sigmoid(self.gate)
        # Both parts are 0 at masked steps and sum to 1 over valid ones (0 on a row with none), so w does too.
        weights = g * masked_softmax(scores, mask, dim=-1) + (1 - g) * mean_weights(
            mask, scores.shape, scores.dtype, scores.device)
        return weighted_sum(feat, weights), weights

    def extra_repr(self) -> str:
        text = f"{self.in_features}, hidden={self.hidden_features}"
        if self.temperature != 1.0:
            text += f", temperature={self.temperature}"
        return text


__all__ = ["AttentionMeanPool"]
