"""The ``"small"`` path: tiny unmasked ``[N, T, C]`` inputs on CPU, as a handful of aten calls.

At the spec's size (``[14, 30, 32]``, about 30 us a call) per-call overhead dominates: ``nn.Module`` calls,
masking branches and a custom autograd Function each cost a visible share. This path is the reference's
arithmetic with the fewest Python-level calls, on plain autograd ops (so its backward is autograd's).

It branches on ``torch.is_grad_enabled()``, so a trace of it depends on the grad mode: the dispatcher never
picks it while tracing, exporting or under a function transform (:func:`.dispatch.must_use_reference`).
"""

from __future__ import annotations

import torch
from torch import Tensor

_linear = torch.nn.functional.linear


def small_attention_pool(
    feat: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, temperature: float = 1.0
) -> tuple[Tensor, Tensor]:
    """Unmasked attention pooling of ``feat [N, T, C]`` with the MLP ``(w1 [H, C], b1 [H], w2 [1, H], b2 [1])``.

    Returns:
        ``(pooled [N, C], weights [N, T])``.
    """
    if not torch.is_grad_enabled():
        # Inference: one F.linear call per layer and an in-place ReLU are the fewest calls (measured ~5 us
        # less than the addmm form at [14, 30, 32]); under autograd the addmm form's backward is quicker.
        hidden = _linear(feat, w1, b1).relu_()  # [N, T, H]
        scores = _linear(hidden, w2, b2)  # [N, T, 1]
    else:
        n, steps, channels = feat.shape
        hidden = torch.relu(torch.addmm(b1, feat.reshape(n * steps, channels), w1.t()))  # [N*T, H]
        scores = torch.addmm(b2, hidden, w2.t()).view(n, steps, 1)  # [N, T, 1]
    if temperature != 1.0:
        scores = scores / temperature
    weights = torch.softmax(scores, dim=1)  # [N, T, 1]
    return (feat * weights).sum(dim=1), weights.squeeze(-1)
