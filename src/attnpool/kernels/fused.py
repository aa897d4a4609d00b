"""Fused attention pooling on any device: a custom autograd Function over blocks of whole rows.

Forward, per block of rows (``rows * T`` steps, sized to stay in cache): scores with one fused matrix product
(``addmm``: ``x W1^T + b1``), in-place ReLU, one matrix-vector product, masked softmax over the row, and the
weighted sum as a batched ``[1, T] x [T, C]`` product. Nothing of size ``[..., T, C]`` besides the input is ever
built (the spec's ``feat * weights`` is), and the hidden layer lives only in one block-sized buffer.

Saved for backward: the input (not a copy), the mask, the weights ``[..., T]`` and the pooled output
``[..., C]``. Backward recomputes the hidden layer block by block and uses

    gs_t = a_t (gw_t + x_t . gp - delta),   delta = a . gw + pooled . gp
    dx_t = a_t gp + (relu'(pre_t) gs_t w2 / temperature) W1

so it reads ``x`` once and writes ``dx`` once.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ._blocks import BackwardPass, Params, masked_block, scores_block, softmax_rows_

#: Steps per block: the block's features (steps * C) and hidden layer (steps * H) stay in the CPU's cache.
DEFAULT_BLOCK_STEPS = 16384


def fused_attention_pool(
    feat: Tensor,
    mask: Tensor | None,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    temperature: float = 1.0,
    block_steps: int = DEFAULT_BLOCK_STEPS,
) -> tuple[Tensor, Tensor]:
    """Attention pooling of ``feat [N, T, C]`` with the MLP ``(w1 [H, C], b1 [H], w2 [1, H], b2 [1])``.

    Args:
        feat: ``[N, T, C]``, contiguous.
        mask: ``[N, T]`` bool (True = valid) or None.
        temperature: scores are divided by it before the softmax.
        block_steps: steps per block; a block holds ``max(1, block_steps // T)`` whole rows.

    Returns:
        ``(pooled [N, C], weights [N, T])``; same rules as the reference for masks and empty rows.
    """
    return _FusedAttentionPool.apply(feat, mask, w1, b1, w2, b2, float(temperature), int(block_steps))


class _FusedAttentionPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feat, mask, w1, b1, w2, b2, temperature, block_steps):
        n_rows, steps, channels = feat.shape
        p = Params(w1, b1, w2, b2, temperature)
        rows = max(1, min(n_rows, block_steps // steps))
        x2 = feat.view(n_rows * steps, channels)  # [N, T, C] -> [N*T, C]
        weights = feat.new_empty(n_rows, steps)
        pooled = feat.new_empty(n_rows, channels)
        hidden = feat.new_empty(rows * steps, p.hidden)
        xbuf = feat.new_empty(rows * steps, channels) if mask is not None else None
        for r0 in range(0, n_rows, rows):
            r1 = min(n_rows, r0 + rows)
            m = r1 - r0
            mrow = mask[r0:r1] if mask is not None else None
            x = masked_block(x2[r0 * steps : r1 * steps], mrow.reshape(-1) if mrow is not None else None, xbuf)
            s = weights[r0:r1]  # [m, T]: scores first, weights after the in-place softmax
            scores_block(x, p, hidden[: m * steps], s.view(-1))
            softmax_rows_(s, mrow)
            torch.bmm(s.unsqueeze(1), x.view(m, steps, channels), out=pooled[r0:r1].unsqueeze(1))
        ctx.set_materialize_grads(False)
        ctx.temperature = temperature
        ctx.rows = rows
        ctx.save_for_backward(feat, mask, w1, b1, w2, b2, weights, pooled)
        return pooled, weights

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_pooled, grad_weights):
        if grad_pooled is None and grad_weights is None:
            return (None,) * 8
        feat = ctx.saved_tensors[0]
        n_rows, steps, channels = feat.shape
        rows = ctx.rows
        bw = BackwardPass(ctx, grad_pooled, grad_weights, rows * steps)
        x2 = feat.view(n_rows * steps, channels)
        for r0 in range(0, n_rows, rows):
            r1 = min(n_rows, r0 + rows)
            mrow = bw.mask[r0:r1].reshape(-1) if bw.mask is not None else None
            bw.block(masked_block(x2[r0 * steps : r1 * steps], mrow, bw.xbuf), r0, r1, 0, steps)
        return bw.gradients()
