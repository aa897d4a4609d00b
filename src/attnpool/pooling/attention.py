"""Attention pooling over time, exactly the spec's module (``../shared/spec``).

score_t = w2^T ReLU(W1 h_t + b1) + b2,   a = softmax_t(score / temperature),   pooled = sum_t a_t h_t
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

# kernels depend on torch only (never on pooling), so importing them here at load time is safe, and it keeps
# a per-call import off the spec-sized hot path (about 2 us of a 30 us call).
from ..kernels import IMPLEMENTATIONS, attention_pool_kernel, choose_impl, must_use_reference
from .base import TemporalPool, _check_positive_float, _check_probability, check_param_dtype, hidden_width, scoring_mlp
from .functional import attention_pool, zero_masked

#: What ``AttentionPool(impl=...)`` takes: ``"auto"`` or one of the kernels package's implementations.
IMPLS = ("auto", *IMPLEMENTATIONS)


class AttentionPool(TemporalPool):
    """Attention pooling over time: a small MLP scores every step, softmax over time, weighted sum.

    ``score_t = w2^T ReLU(W1 h_t + b1) + b2``, ``a = softmax_t(score / temperature)``, ``pooled = sum_t a_t h_t``
    (additive attention pooling, as in Bahdanau et al. 2015 and the spec).

    ``self.attention`` is ``nn.Sequential(Linear(C, H), ReLU(), Linear(H, 1))`` exactly as in the spec, so a
    ``state_dict`` saved from the spec's module (keys ``attention.0.weight`` ... ``attention.2.bias``) loads with
    ``strict=True`` and gives the same outputs and gradients.

    Implementations: ``impl="auto"`` lets :func:`attnpool.kernels.choose_impl` pick by device, dtype and size;
    under ``torch.jit.trace``, both ONNX exporters, ``torch.export``, ``torch.compile`` and ``torch.func``
    transforms every setting runs the reference (the fast paths step aside), so those tools work at any size.
    ``torch.jit.script`` is refused with a clear error (see :class:`TemporalPool`); use ``torch.jit.trace``
    or ``torch.export``.

    dtype: ``feat`` must have the parameters' dtype (one ``TypeError`` naming both otherwise, on every path).

    Finite range (float32, default initialisation; tests/pooling/test_finite_range.py): outputs, weights and
    all gradients stay finite on every path (reference, small, fused, chunked) for ``|feat| <= 1e36`` at valid
    steps. Measured at C = 32 (8 seeds, masked and not): every path alike, gradients finite up to
    ``max |feat| = 3e37`` and non-finite from ``1e38``, where the weights' gradient ``feat_t . grad_pooled`` and
    the hidden layer's overflow float32 (in autograd's backward as in the kernels'); the margin of 30 covers
    wider C and larger trained weights. Masked steps may hold anything (NaN, inf). Scale larger inputs down,
    or use float64.

    Args:
        in_features: channel count C of ``feat [..., T, C]``.
        hidden_features: hidden width H of the scoring MLP (default: ``in_features // 2``, at least 1).
        temperature: scores are divided by it before the softmax (default: 1.0; < 1 sharpens).
        dropout: dropout on the attention weights during training (default: 0.0). With dropout the weights
            no longer sum to exactly 1 in training mode, as with any attention dropout.
        impl: ``"auto"`` (default) lets the dispatcher in :mod:`attnpool.kernels` pick a fast path by device,
            dtype and size; ``"reference"`` forces this readable eager code, which is the oracle in tests;
            ``"small"``, ``"fused"``, ``"chunked"``, ``"triton"`` force a kernel (:data:`IMPLS`).
        device: where the parameters are created (default: torch's default device).
        dtype: the parameters' floating dtype (default: torch's default dtype).

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
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__(in_features, device=device, dtype=dtype)
        factory_kwargs = {"device": device, "dtype": dtype}
        hidden_features = hidden_width(in_features, hidden_features)
        _check_positive_float("temperature", temperature)
        _check_probability("dropout", dropout)
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.hidden_features = hidden_features
        self.temperature = float(temperature)
        self.impl = impl
        self.attention = scoring_mlp(in_features, hidden_features, **factory_kwargs)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def reset_parameters(self) -> None:
        for layer in (self.attention[0], self.attention[2]):
            layer.reset_parameters()

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.dropout is not None and self.training:  # attention dropout lives in the reference only
            return self.reference(feat, mask)
        impl = self.impl
        if impl == "auto":
            impl = choose_impl(feat, mask, self.attention)  # the reference while tracing/exporting/transforming
        elif impl != "reference" and must_use_reference():
            impl = "reference"  # a forced kernel steps aside too: no tool can see through it
        if impl == "reference":
            return self.reference(feat, mask)
        return attention_pool_kernel(impl, feat, self.attention, mask, self.temperature)

    def reference(self, feat: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The plain eager computation of the spec (the oracle for every fast path): ``(pooled, weights)``.

        Plain aten ops with no branch on tensor values, so it traces, scripts into graphs and exports as is.
        """
        check_param_dtype(feat, self.attention[0].weight, type(self).__name__)
        feat = zero_masked(feat, mask)  # scores of masked steps must not see NaN/inf there either
        scores = self.attention(feat).squeeze(-1)  # [..., T, C] -> [..., T, 1] -> [..., T]
        p = self.dropout.p if self.dropout is not None else 0.0
        return attention_pool(feat, scores, mask, self.temperature, dropout=p, training=self.training)

    def extra_repr(self) -> str:
        text = f"{self.in_features}, hidden={self.hidden_features}"
        if self.temperature != 1.0:
            text += f", temperature={self.temperature}"
        if self.dropout is not None:
            text += f", dropout={self.dropout.p}"
        if self.impl != "auto":
            text += f", impl={self.impl!r}"
        return text
