"""Attention pooling as Triton kernels (CUDA; the optional ``triton`` extra): one pass over ``feat`` per direction.

Forward, one program per row: for each tile of ``BLOCK_T`` steps it loads ``x [BLOCK_T, C]`` once, computes the
hidden layer with one ``tl.dot`` (``x W1^T + b1``), the scores, the online softmax (running max ``m``,
normaliser ``l``) and the weighted sum ``acc``, and stores the scores; the weights ``[N, T]`` are then
``exp(score - m) / l`` (one cheap torch pass over an array 1/C the size of ``feat``).

Backward, one program per group of rows: per tile it reloads ``x``, recomputes the hidden layer, and writes
``dx = a gp + (relu'(pre) gs) (w2 / temperature * W1)`` with ``gs = a (x . gp + gw - delta)``; parameter
gradients are summed per program in float32 and reduced in torch.

Masked steps are never loaded (``tl.load(..., mask=valid, other=0)``), so NaN/inf there cannot reach anything.
Arithmetic is float32 (float64 for float64 input); ``tl.dot`` uses ``input_precision="ieee"``, not TF32, so
that results match the reference within fp32 rounding. Tested on CPU with ``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from ._blocks import GradAccumulator, Params, score_grad_offsets

#: Steps per tile. 64 x 32 features and 64 x 16 hidden values fit in registers on current GPUs.
BLOCK_T = 64


def triton_attention_pool(
    feat: Tensor,
    mask: Tensor | None,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    temperature: float = 1.0,
    block_t: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Attention pooling of ``feat [N, T, C]`` with Triton kernels (CUDA, or CPU under ``TRITON_INTERPRET=1``).

    Args:
        feat: ``[N, T, C]``, contiguous.
        mask: ``[N, T]`` bool (True = valid) or None.
        w1, b1, w2, b2: the scoring MLP, ``[H, C]``, ``[H]``, ``[1, H]``, ``[1]``.
        temperature: scores are divided by it before the softmax.
        block_t: steps per tile (a power of 2, at least 16; default :data:`BLOCK_T`).

    Returns:
        ``(pooled [N, C], weights [N, T])``.
    """
    block_t = BLOCK_T if block_t is None else int(block_t)
    if block_t < 16 or block_t & (block_t - 1):
        raise ValueError(f"block_t must be a power of 2 >= 16, got {block_t}")
    return _TritonAttentionPool.apply(feat, mask, w1, b1, w2, b2, float(temperature), block_t)


def _pow2(n: int) -> int:
    return max(16, triton.next_power_of_2(int(n)))  # tl.dot needs every dimension >= 16


def _compute_dtype(dtype: torch.dtype):
    return tl.float64 if dtype == torch.float64 else tl.float32


class _TritonAttentionPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feat, mask, w1, b1, w2, b2, temperature, block_t):
        n_rows, steps, channels = feat.shape
        hidden = w1.shape[0]
        p = Params(w1, b1, w2, b2, temperature)
        acc_dtype = torch.float64 if feat.dtype == torch.float64 else torch.float32
        scores = torch.empty(n_rows, steps, dtype=acc_dtype, device=feat.device)
        pooled = torch.empty(n_rows, channels, dtype=feat.dtype, device=feat.device)
        shift = torch.empty(n_rows, dtype=acc_dtype, device=feat.device)
        norm = torch.empty(n_rows, dtype=acc_dtype, device=feat.device)
        mask_u8 = mask.view(torch.uint8) if mask is not None else feat  # dummy pointer when unused
        if n_rows > 0:
            _forward_kernel[(n_rows,)](
                feat, mask_u8, w1.contiguous(), b1.contiguous(), p.w2s.contiguous(),
                scores, pooled, shift, norm,
                steps, channels, hidden,
                HAS_MASK=mask is not None,
                BLOCK_T=block_t, BLOCK_C=_pow2(channels), BLOCK_H=_pow2(hidden),
                ACC=_compute_dtype(feat.dtype),
            )  # fmt: skip
        # scores are -inf at masked steps; shift is 0 and norm 1 on an all-masked row, so its weights are 0.
        weights = scores.sub_(shift.unsqueeze(1)).exp_().div_(norm.unsqueeze(1)).to(feat.dtype)
        ctx.set_materialize_grads(False)
        ctx.temperature = temperature
        ctx.block_t = block_t
        ctx.save_for_backward(feat, mask, w1, b1, w2, b2, weights, pooled)
        return pooled, weights

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_pooled, grad_weights):
        feat, mask, w1, b1, w2, b2, weights, pooled = ctx.saved_tensors
        if grad_pooled is None and grad_weights is None:
            return (None,) * 8
        n_rows, steps, channels = feat.shape
        hidden = w1.shape[0]
        p = Params(w1, b1, w2, b2, ctx.temperature)
        delta = score_grad_offsets(weights, pooled, grad_pooled, grad_weights)
        acc_dtype = torch.float64 if feat.dtype == torch.float64 else torch.float32
        programs = max(1, min(n_rows, _num_programs(feat.device)))
        # Per program: sum_t relu'*gs x^T [H*C], sum_t relu'*gs [H], sum_t relu*gs [H], sum_t gs [1].
        partial = torch.zeros(programs, hidden * channels + 2 * hidden + 1, dtype=acc_dtype, device=feat.device)
        dx = torch.empty_like(feat) if ctx.needs_input_grad[0] else feat  # feat: dummy, never written
        w1s = (p.w2s.unsqueeze(1) * w1).contiguous()
        mask_u8 = mask.view(torch.uint8) if mask is not None else feat
        if n_rows > 0:
            _backward_kernel[(programs,)](
                feat, mask_u8, w1.contiguous(), b1.contiguous(), w1s,
                weights.contiguous(),
                grad_pooled.contiguous() if grad_pooled is not None else feat,
                grad_weights.contiguous() if grad_weights is not None else feat,
                delta.contiguous(), dx, partial,
                n_rows, steps, channels, hidden, programs,
                HAS_MASK=mask is not None, HAS_GP=grad_pooled is not None, HAS_GW=grad_weights is not None,
                WRITE_DX=ctx.needs_input_grad[0],
                BLOCK_T=ctx.block_t, BLOCK_C=_pow2(channels), BLOCK_H=_pow2(hidden),
                ACC=_compute_dtype(feat.dtype),
            )  # fmt: skip
        grads = (None,) * 4
        needs_params = ctx.needs_input_grad[2:6]
        if any(needs_params):
            total = partial.sum(0)
            hc = hidden * channels
            acc = GradAccumulator(p, channels, feat)
            acc.dpre_x.copy_(total[:hc].view(hidden, channels))
            acc.dpre_sum.copy_(total[hc : hc + hidden])
            acc.relu_gs.copy_(total[hc + hidden : hc + 2 * hidden])
            acc.gs.copy_(total[-1])
            grads = acc.finish(needs_params)
        return (dx if ctx.needs_input_grad[0] else None, None, *grads, None, None)


def _num_programs(device: torch.device) -> int:
    if device.type == "cuda":
        return 8 * torch.cuda.get_device_properties(device).multi_processor_count
    return 4  # the interpreter: few programs, so that the per-program loop over rows is exercised


@triton.jit
def _forward_kernel(
    x_ptr, mask_ptr, w1_ptr, b1_ptr, w2s_ptr,
    scores_ptr, pooled_ptr, shift_ptr, norm_ptr,
    T, C, H,
    HAS_MASK: tl.constexpr, BLOCK_T: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_H: tl.constexpr,
    ACC: tl.constexpr,
):  # fmt: skip
    row = tl.program_id(0).to(tl.int64)
    c = tl.arange(0, BLOCK_C)
    h = tl.arange(0, BLOCK_H)
    c_ok = c < C
    h_ok = h < H
    w1 = tl.load(w1_ptr + h[:, None] * C + c[None, :], mask=h_ok[:, None] & c_ok[None, :], other=0.0).to(ACC)
    b1 = tl.load(b1_ptr + h, mask=h_ok, other=0.0).to(ACC)
    w2 = tl.load(w2s_ptr + h, mask=h_ok, other=0.0).to(ACC)
    run_max = tl.full((), float("-inf"), ACC)
    norm = tl.zeros((), ACC)
    acc = tl.zeros((BLOCK_C,), ACC)
    for t0 in range(0, T, BLOCK_T):
        t = t0 + tl.arange(0, BLOCK_T)
        valid = t < T
        if HAS_MASK:
            valid = valid & (tl.load(mask_ptr + row * T + t, mask=t < T, other=0) != 0)
        x = tl.load(x_ptr + row * T * C + t[:, None] * C + c[None, :], mask=valid[:, None] & c_ok[None, :], other=0.0)
        x = x.to(ACC)
        pre = tl.dot(x, tl.trans(w1), input_precision="ieee") + b1[None, :]  # [BLOCK_T, BLOCK_H]
        s = tl.sum(tl.maximum(pre, 0.0) * w2[None, :], axis=1)  # [BLOCK_T]
        s = tl.where(valid, s, float("-inf"))
        tl.store(scores_ptr + row * T + t, s, mask=t < T)
        new_max = tl.maximum(run_max, tl.max(s, axis=0))
        shift = tl.where(new_max == float("-inf"), 0.0, new_max)
        e = tl.exp(s - shift)  # 0 at masked steps
        rescale = tl.exp(run_max - shift)  # 0 while nothing valid was seen
        norm = norm * rescale + tl.sum(e, axis=0)
        acc = acc * rescale + tl.sum(e[:, None] * x, axis=0)
        run_max = new_max
    shift = tl.where(run_max == float("-inf"), 0.0, run_max)
    norm = tl.where(norm > 0, norm, 1.0)
    tl.store(pooled_ptr + row * C + c, (acc / norm).to(pooled_ptr.dtype.element_ty), mask=c_ok)
    tl.store(shift_ptr + row, shift)
    tl.store(norm_ptr + row, norm)


@triton.jit
def _backward_kernel(
    x_ptr, mask_ptr, w1_ptr, b1_ptr, w1s_ptr, a_ptr, gp_ptr, gw_ptr, delta_ptr, dx_ptr, partial_ptr,
    N, T, C, H, PROGRAMS,
    HAS_MASK: tl.constexpr, HAS_GP: tl.constexpr, HAS_GW: tl.constexpr, WRITE_DX: tl.constexpr,
    BLOCK_T: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_H: tl.constexpr, ACC: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    c = tl.arange(0, BLOCK_C)
    h = tl.arange(0, BLOCK_H)
    c_ok = c < C
    h_ok = h < H
    hc_ok = h_ok[:, None] & c_ok[None, :]
    w1 = tl.load(w1_ptr + h[:, None] * C + c[None, :], mask=hc_ok, other=0.0).to(ACC)
    w1s = tl.load(w1s_ptr + h[:, None] * C + c[None, :], mask=hc_ok, other=0.0).to(ACC)
    b1 = tl.load(b1_ptr + h, mask=h_ok, other=0.0).to(ACC)
    dpre_x = tl.zeros((BLOCK_H, BLOCK_C), ACC)
    dpre_sum = tl.zeros((BLOCK_H,), ACC)
    relu_gs = tl.zeros((BLOCK_H,), ACC)
    gs_sum = tl.zeros((), ACC)
    for row32 in range(pid, N, PROGRAMS):
        row = tl.full((), 0, tl.int64) + row32  # 64-bit offsets: N * T * C may pass 2**31
        if HAS_GP:
            gp = tl.load(gp_ptr + row * C + c, mask=c_ok, other=0.0).to(ACC)
        delta = tl.load(delta_ptr + row).to(ACC)
        for t0 in range(0, T, BLOCK_T):
            t = t0 + tl.arange(0, BLOCK_T)
            valid = t < T
            if HAS_MASK:
                valid = valid & (tl.load(mask_ptr + row * T + t, mask=t < T, other=0) != 0)
            x_off = row * T * C + t[:, None] * C + c[None, :]
            x = tl.load(x_ptr + x_off, mask=valid[:, None] & c_ok[None, :], other=0.0).to(ACC)
            a = tl.load(a_ptr + row * T + t, mask=valid, other=0.0).to(ACC)
            g = tl.zeros((BLOCK_T,), ACC) - delta
            if HAS_GP:
                g += tl.sum(x * gp[None, :], axis=1)
            if HAS_GW:
                g += tl.load(gw_ptr + row * T + t, mask=valid, other=0.0).to(ACC)
            gs = tl.where(valid, a * g, 0.0)  # gradient of the temperature-scaled score
            pre = tl.dot(x, tl.trans(w1), input_precision="ieee") + b1[None, :]
            relu_gs += tl.sum(tl.maximum(pre, 0.0) * gs[:, None], axis=0)
            dh = tl.where(pre > 0, gs[:, None], 0.0)  # relu'(pre) * gs, [BLOCK_T, BLOCK_H]
            dpre_sum += tl.sum(dh, axis=0)
            dpre_x += tl.dot(tl.trans(dh), x, input_precision="ieee")
            gs_sum += tl.sum(gs, axis=0)
            if WRITE_DX:
                dx = tl.dot(dh, w1s, input_precision="ieee")
                if HAS_GP:
                    dx += a[:, None] * gp[None, :]
                tl.store(dx_ptr + x_off, dx.to(dx_ptr.dtype.element_ty), mask=(t < T)[:, None] & c_ok[None, :])
    base = partial_ptr + pid * (H * C + 2 * H + 1)
    tl.store(base + h[:, None] * C + c[None, :], dpre_x, mask=hc_ok)
    tl.store(base + H * C + h, dpre_sum, mask=h_ok)
    tl.store(base + H * C + H + h, relu_gs, mask=h_ok)
    tl.store(base + H * C + 2 * H, gs_sum)
