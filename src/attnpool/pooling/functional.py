"""Functional core shared by every pooling: masking, masked softmax, weighted sum.

All masking and empty-row rules live here, so every pooling layer (and every fast kernel's
reference) behaves the same way:

* ``mask`` is a bool tensor ``[..., T]``, True = valid step.
* Values at masked steps never reach an output or a gradient, even when they are NaN or inf.
* A row with no valid step gets all-zero weights and pools to zeros, with finite gradients.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "check_feat",
    "check_mask",
    "zero_masked",
    "masked_softmax",
    "weighted_sum",
    "mean_weights",
    "attention_pool",
]


def check_feat(feat: Tensor, in_features: int | None = None, name: str = "feat") -> None:
    """Check that ``feat`` is a floating tensor ``[..., T, C]`` with ``T >= 1`` (and ``C == in_features``)."""
    if not isinstance(feat, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [..., T, C], got {type(feat).__name__}")
    if feat.dim() < 2:
        raise ValueError(
            f"{name} must have at least 2 dims [..., T, C], got {feat.dim()} dim(s) with shape {tuple(feat.shape)}"
        )
    if not feat.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor (float16/bfloat16/float32/float64), got dtype {feat.dtype}")
    if feat.shape[-2] == 0:
        raise ValueError(f"{name} must have at least one time step (T = {name}.shape[-2] >= 1), got shape {tuple(feat.shape)}")
    if in_features is not None and feat.shape[-1] != in_features:
        raise ValueError(
            f"{name} must have {in_features} channels in its last dim (in_features), "
            f"got {feat.shape[-1]} (shape {tuple(feat.shape)})"
        )


def check_mask(mask: Tensor | None, feat: Tensor, name: str = "mask") -> None:
    """Check that ``mask`` is None or a bool tensor of shape ``feat.shape[:-1]`` (``[..., T]``)."""
    if mask is None:
        return
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a bool torch.Tensor of shape [..., T], got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must have dtype torch.bool (True = valid step), got {mask.dtype}")
    if mask.shape != feat.shape[:-1]:
        raise ValueError(
            f"{name} must have shape feat.shape[:-1] = {tuple(feat.shape[:-1])} ([..., T]), got {tuple(mask.shape)}"
        )


def zero_masked(feat: Tensor, mask: Tensor | None) -> Tensor:
    """Replace masked steps of ``feat [..., T, C]`` by zeros, cutting them off from outputs and gradients."""
    if mask is None:
        return feat
    return feat.masked_fill(~mask.unsqueeze(-1), 0.0)


def masked_softmax(scores: Tensor, mask: Tensor | None = None, dim: int = -1) -> Tensor:
    """Softmax of ``scores`` along ``dim`` over valid entries only.

    Masked entries get weight exactly 0; a slice with no valid entry gets all zeros (not NaN), and
    its gradient is zero. Stable for large scores (the running maximum is subtracted).

    Args:
        scores: ``[..., T]`` (any shape; ``dim`` is the time axis).
        mask: bool, same shape as ``scores``; True = valid. None = all valid.
        dim: the axis to normalise over (default: -1).
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    scores = scores.masked_fill(~mask, float("-inf"))
    peak = scores.amax(dim=dim, keepdim=True).detach()
    # An all-masked slice has peak -inf; shift by 0 there so exp() sees -inf and gives exact zeros.
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    expd = torch.exp(scores - peak)
    total = expd.sum(dim=dim, keepdim=True)
    # Dividing by 1 where the total is 0 keeps empty slices at 0 with zero gradient (a clamp to a tiny
    # number would make the gradient overflow and turn into NaN through exp's zero derivative).
    total = torch.where(total > 0, total, torch.ones_like(total))
    return expd / total


def weighted_sum(feat: Tensor, weights: Tensor) -> Tensor:
    """``sum_t weights[..., t] * feat[..., t, :]``: ``feat [..., T, C]``, ``weights [..., T]`` -> ``[..., C]``."""
    return torch.matmul(weights.unsqueeze(-2).to(feat.dtype), feat).squeeze(-2)


def mean_weights(mask: Tensor | None, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> Tensor:
    """Uniform weights over valid steps, ``[..., T]``: ``1 / n_valid`` at valid steps, 0 elsewhere (and all 0
    on a row with no valid step)."""
    if mask is None:
        return torch.full(shape, 1.0 / shape[-1], dtype=dtype, device=device)
    valid = mask.to(dtype)
    count = valid.sum(dim=-1, keepdim=True).clamp_min(1.0)
    return valid / count


def attention_pool(
    feat: Tensor,
    scores: Tensor,
    mask: Tensor | None = None,
    temperature: float = 1.0,
    *,
    dropout: float = 0.0,
    training: bool = False,
) -> tuple[Tensor, Tensor]:
    """Pool ``feat [..., T, C]`` with softmax(``scores [..., T]`` / temperature) over valid steps.

    The formula of :class:`attnpool.AttentionPool` once the scores are known (its reference calls this):
    ``a = masked_softmax(scores / temperature)``, ``pooled = sum_t a_t feat_t``. Masked steps of ``feat`` are
    replaced by zeros first, so NaN/inf there reach neither output nor gradient. If ``scores`` were computed
    from ``feat``, compute them from ``zero_masked(feat, mask)`` for the same reason.

    Args:
        feat: ``[..., T, C]``.
        scores: ``[..., T]``.
        mask: ``[..., T]`` bool, True = valid step; None = all valid.
        temperature: positive; scores are divided by it (default: 1.0).
        dropout: dropout probability on the weights, applied only when ``training`` (default: 0.0).
        training: whether dropout is active (default: False), as in ``torch.nn.functional.dropout``.

    Returns:
        ``(pooled [..., C], weights [..., T])``; with dropout, the returned weights are the dropped ones.
    """
    if temperature != 1.0:
        scores = scores / temperature
    weights = masked_softmax(scores, mask, dim=-1)  # [..., T], sums to 1 over valid steps
    if dropout > 0.0:
        weights = torch.nn.functional.dropout(weights, dropout, training)
    return weighted_sum(zero_masked(feat, mask), weights), weights  # [..., C], [..., T]
