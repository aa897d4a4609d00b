"""Chunked attention pooling for long sequences: online (running-max) softmax over chunks of time.

A block is ``rows x L`` steps with ``L = min(T, chunk_steps)``; when a row is longer than a chunk, a block is one
row's chunk of ``L`` steps. Each block is read once: its scores, its share of the softmax normaliser and of
the weighted sum are computed while it is in cache, with the running maximum ``m``, normaliser ``l`` and
accumulator ``acc`` rescaled by ``exp(m_old - m_new)`` when the maximum grows (Milakov & Gimelshein 2018,
"Online normalizer calculation for softmax"; the forward of FlashAttention).

Memory beyond the input: the scores/weights ``[..., T]`` (an output, 1/C of the input) plus block-sized scratch,
so it grows with the chunk, not with T. The backward is the fused one (:mod:`.fused`), run over the same blocks.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ._blocks import BackwardPass, Params, masked_block, scores_block

#: Steps per chunk (per block): features and hidden layer of one chunk stay in cache.
DEFAULT_CHUNK_STEPS = 16384


def chunked_attention_pool(
    feat: Tensor,
    mask: Tensor | None,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    temperature: float = 1.0,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
) -> tuple[Tensor, Tensor]:
    """Attention pooling of ``feat [N, T, C]`` over time chunks of ``chunk_steps`` steps, online softmax.

    Args:
        feat: ``[N, T, C]``, contiguous.
        mask: ``[N, T]`` bool (True = valid) or None.
        w1, b1, w2, b2: the scoring MLP, ``[H, C]``, ``[H]``, ``[1, H]``, ``[1]``.
        temperature: scores are divided by it before the softmax.
        chunk_steps: steps per block (a chunk of one row, or several whole rows when ``T <= chunk_steps``).

    Returns:
        ``(pooled [N, C], weights [N, T])``; same rules as the reference for masks and empty rows.
    """
    return _ChunkedAttentionPool.apply(feat, mask, w1, b1, w2, b2, float(temperature), int(chunk_steps))


def iter_blocks(n_rows: int, steps: int, chunk_steps: int):
    """Yield ``(r0, r1, t0, t1)`` blocks covering ``[N, T]``; every block's ``[r0:r1, t0:t1]`` slice is contiguous."""
    length = max(1, min(steps, chunk_steps))
    rows = max(1, chunk_steps // steps) if length == steps else 1
    for r0 in range(0, n_rows, rows):
        r1 = min(n_rows, r0 + rows)
        for t0 in range(0, steps, length):
            yield r0, r1, t0, min(steps, t0 + length)


class _ChunkedAttentionPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feat, mask, w1, b1, w2, b2, temperature, chunk_steps):
        n_rows, steps, channels = feat.shape
        p = Params(w1, b1, w2, b2, temperature)
        block = min(max(chunk_steps, steps) if steps <= chunk_steps else chunk_steps, n_rows * steps)
        block = max(block, 1)
        weights = feat.new_empty(n_rows, steps)  # the scores first; turned into weights row block by row block
        pooled = feat.new_empty(n_rows, channels)
        hidden = feat.new_empty(block, p.hidden)
        expd = feat.new_empty(block)
        xbuf = feat.new_empty(block, channels) if mask is not None else None
        neg_inf = float("-inf")
        state = None  # (r0, r1, running max [n], normaliser [n], accumulator [n, C])
        for r0, r1, t0, t1 in iter_blocks(n_rows, steps, chunk_steps):
            n, length = r1 - r0, t1 - t0
            if state is None or state[0] != r0:
                if state is not None:
                    _finish_rows(weights, pooled, *state)
                state = (
                    r0,
                    r1,
                    feat.new_full((n,), neg_inf),
                    feat.new_zeros(n),
                    feat.new_zeros(n, channels),
                )
            _, _, run_max, norm, acc = state
            x = feat[r0:r1, t0:t1].reshape(n * length, channels)  # a view: the slice is contiguous
            mblock = mask[r0:r1, t0:t1] if mask is not None else None
            x = masked_block(x, mblock.reshape(-1) if mblock is not None else None, xbuf)
            s = weights[r0:r1, t0:t1]  # [n, L], contiguous
            scores_block(x, p, hidden[: n * length], s.view(-1))
            if mblock is not None:
                s.masked_fill_(~mblock, neg_inf)
            new_max = torch.maximum(run_max, s.amax(dim=-1))
            shift = new_max.masked_fill(new_max == neg_inf, 0.0)  # all masked so far: exp(-inf - 0) = 0
            e = torch.sub(s, shift.unsqueeze(1), out=expd[: n * length].view(n, length)).exp_()
            rescale = (run_max - shift).exp_()  # 0 where run_max was -inf
            norm.mul_(rescale).add_(e.sum(dim=-1))
            acc.mul_(rescale.unsqueeze(1)).unsqueeze(1).baddbmm_(e.unsqueeze(1), x.view(n, length, channels))
            run_max.copy_(new_max)
        if state is not None:
            _finish_rows(weights, pooled, *state)
        ctx.set_materialize_grads(False)
        ctx.temperature = temperature
        ctx.chunk_steps = chunk_steps
        ctx.block = block
        ctx.save_for_backward(feat, mask, w1, b1, w2, b2, weights, pooled)
        return pooled, weights

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_pooled, grad_weights):
        if grad_pooled is None and grad_weights is None:
            return (None,) * 8
        feat = ctx.saved_tensors[0]
        n_rows, steps, channels = feat.shape
        bw = BackwardPass(ctx, grad_pooled, grad_weights, ctx.block)
        for r0, r1, t0, t1 in iter_blocks(n_rows, steps, ctx.chunk_steps):
            x = feat[r0:r1, t0:t1].reshape((r1 - r0) * (t1 - t0), channels)
            mblock = bw.mask[r0:r1, t0:t1].reshape(-1) if bw.mask is not None else None
            bw.block(masked_block(x, mblock, bw.xbuf), r0, r1, t0, t1)
        return bw.gradients()


def _finish_rows(weights: Tensor, pooled: Tensor, r0: int, r1: int, run_max: Tensor, norm: Tensor, acc: Tensor) -> None:
    """Turn the stored scores of rows ``r0:r1`` into weights, and the accumulator into the pooled output."""
    shift = run_max.masked_fill(run_max == float("-inf"), 0.0)
    safe = norm.masked_fill(norm == 0, 1.0)  # a row with no valid step: weights and output stay 0
    rows = weights[r0:r1]
    rows.sub_(shift.unsqueeze(1)).exp_().div_(safe.unsqueeze(1))
    torch.div(acc, safe.unsqueeze(1), out=pooled[r0:r1])
