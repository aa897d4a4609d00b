"""Block routines shared by the CPU kernels (fused and chunked): one block of steps at a time.

Every routine works on a block of ``n`` rows by ``L`` steps that is small enough to stay in cache, writes into
buffers that the caller allocates once, and never builds a ``[..., T, C]`` temporary larger than the block.

Notation (per block):
    x   ``[n*L, C]`` features (zeroed at masked steps), ``a`` ``[n, L]`` softmax weights,
    W1 ``[H, C]``, b1 ``[H]``, w2s = w2 / temperature ``[H]``.
    score_t = w2s . relu(W1 x_t + b1)   (b2 is dropped: softmax is invariant to a shift of every score).
"""

from __future__ import annotations

import torch
from torch import Tensor


class Params:
    """The scoring MLP's parameters, flattened and pre-scaled once per call.

    Args:
        w1: ``[H, C]``; b1: ``[H]``; w2: ``[1, H]``; b2: ``[1]``; temperature: positive float.
    """

    def __init__(self, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, temperature: float):
        self.w1 = w1
        self.b1 = b1
        self.w2 = w2
        self.b2 = b2
        self.inv_temperature = 1.0 / float(temperature)
        self.w1t = w1.t()  # [C, H] view: addmm reads the transpose without a copy
        # Folding 1/temperature into w2 saves one pass over the scores.
        self.w2s = w2.reshape(-1) * self.inv_temperature  # [H]
        self.hidden = w1.shape[0]


def masked_block(x: Tensor, mask: Tensor | None, buffer: Tensor | None) -> Tensor:
    """``x [m, C]`` with rows where ``mask [m]`` is False set to 0 (written into ``buffer``); ``x`` if no mask.

    ``torch.where`` (not a multiplication by the mask) so that NaN/inf at masked steps become exact zeros.
    """
    if mask is None:
        return x
    out = buffer[: x.shape[0]]
    torch.where(mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype, device=x.device), out=out)
    return out


def scores_block(x: Tensor, p: Params, hidden: Tensor, out: Tensor) -> Tensor:
    """Scores of the steps ``x [m, C]`` into ``out [m]``, using ``hidden [m, H]`` as scratch.

    One fused matrix product with bias (``addmm``), an in-place ReLU, one matrix-vector product.
    """
    torch.addmm(p.b1, x, p.w1t, out=hidden)
    hidden.relu_()
    torch.mv(hidden, p.w2s, out=out)
    return out


def softmax_rows_(scores: Tensor, mask: Tensor | None) -> Tensor:
    """In-place masked softmax over the last axis of ``scores [n, L]``.

    Masked entries become exactly 0; a row with no valid entry becomes all zeros (never NaN).
    """
    if mask is None:
        peak = scores.amax(dim=-1, keepdim=True)
        scores.sub_(peak).exp_()
        scores.div_(scores.sum(dim=-1, keepdim=True))
        return scores
    scores.masked_fill_(~mask, float("-inf"))
    peak = scores.amax(dim=-1, keepdim=True)
    peak.masked_fill_(peak == float("-inf"), 0.0)  # empty row: exp(-inf - 0) = 0 everywhere
    scores.sub_(peak).exp_()
    total = scores.sum(dim=-1, keepdim=True)
    total.masked_fill_(total == 0, 1.0)
    scores.div_(total)
    return scores


class GradAccumulator:
    """Parameter gradients summed over blocks, in float32 or wider (bf16/fp16 sums would lose digits)."""

    def __init__(self, p: Params, channels: int, like: Tensor):
        acc_dtype = torch.promote_types(like.dtype, torch.float32)
        h = p.hidden
        self.p = p
        self.dtype = like.dtype
        self.low_precision = acc_dtype != like.dtype
        z = dict(dtype=acc_dtype, device=like.device)
        # dpre_t = relu'(pre_t) * gs_t is the gradient of the pre-activation up to the factor w2s, which
        # finish() applies once instead of once per block.
        self.dpre_x = torch.zeros(h, channels, **z)  # sum_t dpre_t x_t^T   [H, C]: dW1 / w2s
        self.dpre_sum = torch.zeros(h, **z)  # sum_t dpre_t                  [H]: db1 / w2s
        self.relu_gs = torch.zeros(h, **z)  # sum_t relu(pre_t) * gs_t                         [H]
        self.gs = torch.zeros((), **z)  # sum_t gs_t

    def add(self, x: Tensor, relu_gs: Tensor, dh: Tensor, gs: Tensor) -> None:
        if self.low_precision:
            x, dh, gs, relu_gs = x.float(), dh.float(), gs.float(), relu_gs.float()
        self.dpre_x.addmm_(dh.t(), x)
        self.dpre_sum.add_(dh.sum(0))
        self.relu_gs.add_(relu_gs)
        self.gs.add_(gs.sum())

    def finish(self, needs: tuple[bool, bool, bool, bool]) -> tuple[Tensor | None, ...]:
        """``(dW1 [H, C], db1 [H], dw2 [1, H], db2 [1])``, None where not needed."""
        p, inv_t = self.p, self.p.inv_temperature
        w2s = p.w2s.to(self.dpre_x.dtype)
        d_w1 = (self.dpre_x * w2s.unsqueeze(1)).to(self.dtype) if needs[0] else None
        d_b1 = (self.dpre_sum * w2s).to(self.dtype) if needs[1] else None
        d_w2 = (self.relu_gs * inv_t).reshape(1, -1).to(self.dtype) if needs[2] else None
        d_b2 = (self.gs * inv_t).reshape(1).to(self.dtype) if needs[3] else None
        return d_w1, d_b1, d_w2, d_b2


def backward_block(
    x: Tensor,
    a: Tensor,
    grad_pooled: Tensor | None,
    grad_weights: Tensor | None,
    delta: Tensor,
    p: Params,
    hidden: Tensor,
    acc: GradAccumulator | None,
    dx: Tensor | None,
    w1s: Tensor,
) -> None:
    """Backward of one block: ``n`` rows by ``L`` steps.

    Args:
        x: ``[n*L, C]`` features (masked steps zeroed).
        a: ``[n, L]`` weights of the forward (0 at masked steps).
        grad_pooled: ``[n, C]`` or None; grad_weights: ``[n, L]`` or None.
        delta: ``[n]``, ``sum_t a_t (grad_weights_t + x_t . grad_pooled)`` over the whole row
            (``= a . grad_weights + pooled . grad_pooled``, so it needs no extra pass over ``x``).
        hidden: ``[n*L, H]`` scratch; the hidden layer is recomputed here rather than stored by the forward.
        acc: parameter-gradient accumulator, or None when no parameter needs a gradient.
        dx: ``[n, L, C]`` output for the gradient of ``x``, or None.
        w1s: ``w2s[:, None] * W1`` ``[H, C]``.
    """
    n, length = a.shape
    channels = x.shape[-1]
    # gs = a * (x . gp + gw - delta): the gradient of the (temperature-scaled) scores, [n, L].
    if grad_pooled is not None:
        # A broadcast dot product: 2x faster than bmm's batch of [L, C] x [C, 1] products (measured).
        g = torch.linalg.vecdot(x.view(n, length, channels), grad_pooled.unsqueeze(1))  # [n, L]
        if grad_weights is not None:
            g.add_(grad_weights)
    else:
        g = grad_weights.clone()
    g.sub_(delta.unsqueeze(1)).mul_(a)
    gs = g.view(-1)  # [n*L]
    torch.addmm(p.b1, x, p.w1t, out=hidden)  # recompute the pre-activations
    hidden.relu_()
    relu_gs = torch.mv(hidden.t(), gs) if acc is not None else None  # [H]
    # relu'(pre) * gs; multiplying by w2s is folded into w1s and the accumulator's finish().
    dh = hidden.sign_().mul_(gs.unsqueeze(1))
    if acc is not None:
        acc.add(x, relu_gs, dh, gs)
    if dx is not None:
        if grad_pooled is not None:
            torch.mul(a.unsqueeze(2), grad_pooled.unsqueeze(1), out=dx)  # a_t * gp: [n, L, 1] * [n, 1, C]
            dx.view(-1, channels).addmm_(dh, w1s)
        else:
            torch.mm(dh, w1s, out=dx.view(-1, channels))


class BackwardPass:
    """The set-up both CPU backwards share (fused and chunked differ only in how they walk the blocks).

    Holds the saved tensors, the score-gradient offsets ``delta``, one block's scratch, the parameter
    accumulator and the input gradient; :meth:`block` runs :func:`backward_block` on rows ``r0:r1`` and steps
    ``t0:t1``, and :meth:`gradients` returns what ``autograd.Function.backward`` must return.

    Args:
        ctx: the Function's context; saved ``(feat, mask, w1, b1, w2, b2, weights, pooled)`` and ``temperature``.
        grad_pooled: ``[N, C]`` or None; grad_weights: ``[N, T]`` or None.
        scratch_steps: the most steps one block holds.
    """

    def __init__(self, ctx, grad_pooled: Tensor | None, grad_weights: Tensor | None, scratch_steps: int):
        feat, mask, w1, b1, w2, b2, weights, pooled = ctx.saved_tensors
        channels = feat.shape[-1]
        self.feat, self.mask, self.weights = feat, mask, weights
        self.needs_params = ctx.needs_input_grad[2:6]
        self.p = Params(w1, b1, w2, b2, ctx.temperature)
        self.delta = score_grad_offsets(weights, pooled, grad_pooled, grad_weights)
        self.hidden = feat.new_empty(scratch_steps, self.p.hidden)
        self.xbuf = feat.new_empty(scratch_steps, channels) if mask is not None else None
        self.acc = GradAccumulator(self.p, channels, feat) if any(self.needs_params) else None
        self.dx = torch.empty_like(feat) if ctx.needs_input_grad[0] else None
        self.w1s = self.p.w2s.unsqueeze(1) * w1
        self.gp = grad_pooled.contiguous() if grad_pooled is not None else None
        self.gw = grad_weights.contiguous() if grad_weights is not None else None

    def block(self, x: Tensor, r0: int, r1: int, t0: int, t1: int) -> None:
        """Backward of rows ``r0:r1``, steps ``t0:t1``; ``x [(r1-r0)*(t1-t0), C]`` already masked."""
        backward_block(
            x,
            self.weights[r0:r1, t0:t1],
            self.gp[r0:r1] if self.gp is not None else None,
            self.gw[r0:r1, t0:t1] if self.gw is not None else None,
            self.delta[r0:r1],
            self.p,
            self.hidden[: x.shape[0]],
            self.acc,
            self.dx[r0:r1, t0:t1] if self.dx is not None else None,
            self.w1s,
        )

    def gradients(self) -> tuple:
        """``(dx, None, dW1, db1, dW2, db2, None, None)`` for the Function's 8 inputs."""
        grads = self.acc.finish(self.needs_params) if self.acc is not None else (None,) * 4
        return (self.dx, None, *grads, None, None)


def score_grad_offsets(weights: Tensor, pooled: Tensor, grad_pooled: Tensor | None,
                       grad_weights: Tensor | None) -> Tensor:
    """``delta [N] = sum_t a_t (gw_t + x_t . gp) = a . gw + pooled . gp`` (FlashAttention's trick: no pass over x)."""
    delta = torch.zeros(weights.shape[0], dtype=weights.dtype, device=weights.device)
    if grad_pooled is not None:
        delta += (pooled * grad_pooled).sum(-1)
    if grad_weights is not None:
        delta += (weights * grad_weights).sum(-1)
    return delta
