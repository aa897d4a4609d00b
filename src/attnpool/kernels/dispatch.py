"""Pick an implementation of attention pooling by device, dtype and size, and run it.

Implementations (all equal to :meth:`attnpool.AttentionPool.reference` within rounding; tests/kernels):

* ``"reference"``: the readable eager code (the oracle). Chosen for tiny inputs, where the per-call overhead
  of a custom autograd Function costs more than it saves, and whenever torch.compile is tracing.
* ``"small"``: for tiny unmasked ``[N, T, C]`` inputs on CPU, the reference's arithmetic as a handful of
  aten calls (no ``nn.Module`` calls, no masking branches): the spec's size is dominated by per-call overhead.
* ``"fused"``: :mod:`.fused`, a custom autograd Function over cache-sized blocks of whole rows (any device).
* ``"chunked"``: :mod:`.chunked`, online softmax over time chunks; memory beyond the input grows with the
  chunk, not with T. Chosen when one row no longer fits a block.
* ``"triton"``: :mod:`.triton_pool`, one pass over ``feat`` per direction on CUDA (optional ``triton`` extra).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

from . import chunked as _chunked
from . import fused as _fused
from .chunked import chunked_attention_pool
from .fused import fused_attention_pool

#: Below this many steps (N * T) on CPU the reference's fewer Python-level calls win (measured, see
#: benchmarks/results/pooling_speed.md).
MIN_FUSED_STEPS = 2048

#: Rows longer than this go to the chunked path on CPU (its scratch does not grow with T).
CHUNKED_MIN_STEPS = 1 << 21

IMPLEMENTATIONS = ("reference", "small", "fused", "chunked", "triton")


def choose_impl(feat: Tensor, mask: Tensor | None, attention: nn.Sequential) -> str:
    """Name of the implementation for this input: one of :data:`IMPLEMENTATIONS`.

    Args:
        feat: ``[..., T, C]``.
        mask: ``[..., T]`` bool or None.
        attention: the scoring MLP ``Sequential(Linear(C, H), ReLU(), Linear(H, 1))``.
    """
    # Cheapest tests first: at the spec's size this function's own cost is a sizeable share of the call.
    if _is_compiling():
        return "reference"
    if not feat.is_cuda and feat.numel() < MIN_FUSED_STEPS * feat.shape[-1]:
        # Tiny CPU inputs: decided before the parameter check (about 1 us, a visible share of a 30 us call);
        # a dtype mismatch then fails in "small" with the same torch error the reference gives.
        return "small" if mask is None and feat.dim() == 3 else "reference"
    if not _params_match(feat, attention):
        return "reference"
    if feat.is_cuda:
        return "triton" if triton_available() else "fused"
    steps = feat.shape[-2]
    # Measured (benchmarks/results/pooling_speed.md): at [16, 262144, 32] the chunked path is several times slower
    # than fused on CPU (not yet understood: profile it), while fused already stays within 10% of the input's
    # size beyond its gradient there (one row's hidden layer is the scratch). So chunked only for huge rows.
    if steps > CHUNKED_MIN_STEPS:
        return "chunked"
    return "fused"


def attention_pool_kernel(
    impl: str, feat: Tensor, attention: nn.Sequential, mask: Tensor | None, temperature: float
) -> tuple[Tensor, Tensor]:
    """Run attention pooling with kernel ``impl``.

    Args:
        impl: ``"fused"``, ``"chunked"`` or ``"triton"`` (``"reference"`` belongs to the module itself).
        feat: ``[..., T, C]`` floating tensor, any number of leading axes.
        attention: ``Sequential(Linear(C, H), ReLU(), Linear(H, 1))`` with parameters of ``feat``'s dtype.
        mask: ``[..., T]`` bool (True = valid step) or None.
        temperature: positive; scores are divided by it before the softmax.

    Returns:
        ``(pooled [..., C], weights [..., T])``.
    """
    if impl == "small" and mask is None:
        return _small(feat, attention, temperature)
    if impl not in ("fused", "chunked", "triton"):
        raise ValueError(f"impl must be one of ('fused', 'chunked', 'triton', 'small'), got {impl!r}")
    first, second = attention[0], attention[2]
    if not _params_match(feat, attention):
        raise TypeError(
            f"impl={impl!r} needs the attention MLP's parameters on feat's dtype and device "
            f"({feat.dtype}, {feat.device}), got ({first.weight.dtype}, {first.weight.device})"
        )
    *lead, steps, channels = feat.shape
    # [..., T, C] -> [N, T, C]; reshape copies only if the leading axes cannot be merged.
    x = feat.reshape(-1, steps, channels)
    if not x.is_contiguous():
        x = x.contiguous()
    m = mask.reshape(-1, steps) if mask is not None else None
    params = (first.weight, first.bias, second.weight, second.bias)
    if impl == "fused":
        # Block sizes are read at call time, so tests can shrink them to exercise many blocks.
        pooled, weights = fused_attention_pool(x, m, *params, temperature, _fused.DEFAULT_BLOCK_STEPS)
    elif impl == "chunked":
        pooled, weights = chunked_attention_pool(x, m, *params, temperature, _chunked.DEFAULT_CHUNK_STEPS)
    else:
        from .triton_pool import triton_attention_pool  # lazy: triton is an optional extra

        pooled, weights = triton_attention_pool(x, m, *params, temperature)
    return pooled.reshape(*lead, channels), weights.reshape(*lead, steps)


def _small(feat: Tensor, attention: nn.Sequential, temperature: float) -> tuple[Tensor, Tensor]:
    """Unmasked ``feat [N, T, C]`` -> ``(pooled [N, C], weights [N, T])`` with plain autograd ops."""
    first, _, second = attention._modules.values()  # cheaper than Sequential indexing (~0.4 us each)
    if not torch.is_grad_enabled():
        # Inference: one F.linear call per layer and an in-place ReLU are the fewest calls (measured ~5 us
        # less than the addmm form at [14, 30, 32]); under autograd the addmm form's backward is quicker.
        hidden = torch.nn.functional.linear(feat, first.weight, first.bias).relu_()  # [N, T, H]
        scores = torch.nn.functional.linear(hidden, second.weight, second.bias)  # [N, T, 1]
    else:
        n, steps, channels = feat.shape
        hidden = torch.relu(torch.addmm(first.bias, feat.reshape(n * steps, channels), first.weight.t()))  # [N*T, H]
        scores = torch.addmm(second.bias, hidden, second.weight.t()).view(n, steps, 1)  # [N, T, 1]
    if temperature != 1.0:
        scores = scores / temperature
    weights = torch.softmax(scores, dim=1)  # [N, T, 1]
    return (feat * weights).sum(dim=1), weights.squeeze(-1)


@functools.lru_cache(maxsize=1)
def triton_available() -> bool:
    """True when ``triton`` imports (the ``triton`` extra is installed)."""
    try:
        import triton  # noqa: F401
    except Exception:  # ImportError, or a broken install raising anything at import
        return False
    return True


def _params_match(feat: Tensor, attention: nn.Sequential) -> bool:
    # AttentionPool always builds Sequential(Linear(C, H), ReLU(), Linear(H, 1)) with biases; only the
    # parameters' dtype and device can differ from feat's (the reference then raises torch's own error).
    w = attention[0].weight
    return w.dtype == feat.dtype and w.device == feat.device


def _is_compiling() -> bool:
    try:
        return torch.compiler.is_compiling()
    except AttributeError:  # older torch
        return False


__all__ = ["choose_impl", "attention_pool_kernel", "triton_available", "IMPLEMENTATIONS"]
