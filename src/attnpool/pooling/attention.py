"""Attention pooling over time, exactly the spec's module (``../shared/spec``).

score_t = w2^T ReLU(W1 h_t + b1) + b2,   a = softmax_t(score / temperature),   pooled = sum_t a_t h_t
"""

from __future__ import annotations

from torch import Tensor, nn

# kernels depend on torch only (never on pooling), so importing them here at load time is safe, and it keeps
# a per-call import off the spec-sized hot path (about 2 us of a 30 us call).
from ..kernels import attention_pool_kernel, choose_impl
from .base import TemporalPool, _check_positive_float, _check_positive_int, _check_probability
from .functional import masked_softmax, weighted_sum, zero_masked

IMPLS = ("auto", "reference", "fused", "chunked", "triton")


class AttentionPool(TemporalPool):
    """Attention pooling over time: a small MLP scores every step, softmax over time, weighted sum.

    ``self.attention`` is ``nn.Sequential(Linear(C, H), ReLU(), Linear(H, 1))`` exactly as in the spec, so a
    ``state_dict`` saved from the spec's module (keys ``attention.0.weight`` ... ``attention.2.bias``) loads with
    ``strict=True`` and gives the same outputs and gradients.

    Args:
        in_features: channel count C of ``feat [..., T, C]``.
        hidden_features: hidden width H of the scoring MLP (default: ``in_features // 2``, at least 1).
        temperature: scores are divided by it before the softmax (default: 1.0; < 1 sharpens).
        dropout: dropout on the attention weights during training (default: 0.0). With dropout the weights
            no longer sum to exactly 1 in training mode, as with any attention dropout.
        impl: ``"auto"`` (default) lets the dispatcher in :mod:`attnpool.kernels` pick a fast path by device,
            dtype and size; ``"reference"`` forces this readable eager code, which is the oracle in tests;
            ``"fused"``, ``"chunked"``, ``"triton"`` force a kernel.

    Shapes:
        feat ``[..., T, C]``, mask ``[..., T]`` bool (True = valid) -> pooled ``[..., C]``, weights ``[..., T]``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        *,
        temperature: float = 1.0,
        dropout: float = 0.0,
        impl: str = "auto",
    ):
        super().__init__(in_features)
        if hidden_features is None:
            hidden_features = max(in_features // 2, 1)
        _check_positive_int("hidden_features", hidden_features)
        _check_positive_float("temperature", temperature)
        _check_probability("dropout", dropout)
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.hidden_features = hidden_features
        self.temperature = float(temperature)
        self.impl = impl
        self.attention = nn.Sequential(
            nn.Linear(in_features, hidden_features),
            nn.ReLU(),
            nn.Linear(hidden_features, 1),
        )
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def reset_parameters(self) -> None:
        for layer in (self.attention[0], self.attention[2]):
            layer.reset_parameters()

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.dropout is not None and self.training:  # attention dropout lives in the reference only
            return self.reference(feat, mask)
        impl = choose_impl(feat, mask, self.attention) if self.impl == "auto" else self.impl
        if impl == "reference":
            return self.reference(feat, mask)
        return attention_pool_kernel(impl, feat, self.attention, mask, self.temperature)

    def reference(self, feat: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The plain eager computation of the spec (the oracle for every fast path): ``(pooled, weights)``."""
        feat = zero_masked(feat, mask)
        scores = self.attention(feat).squeeze(-1)  # [..., T, C] -> [..., T, 1] -> [..., T]
        if self.temperature != 1.0:
            scores = scores / self.temperature
        weights = masked_softmax(scores, mask, dim=-1)  # [..., T], sums to 1 over valid steps
        if self.dropout is not None:
            weights = self.dropout(weights)
        return weighted_sum(feat, weights), weights  # [..., C], [..., T]

    def extra_repr(self) -> str:
        text = f"{self.in_features}, hidden={self.hidden_features}"
        if self.temperature != 1.0:
            text += f", temperature={self.temperature}"
        if self.dropout is not None:
            text += f", dropout={self.dropout.p}"
        if self.impl != "auto":
            text += f", impl={self.impl!r}"
        return text
