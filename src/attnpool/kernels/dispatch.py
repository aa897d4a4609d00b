"""Pick an implementation of attention pooling by device, dtype and size, and run it.

Implementations (:data:`IMPLEMENTATIONS`, the one list; all equal to :meth:`attnpool.AttentionPool.reference`
within rounding, tests/kernels):

* ``"reference"``: the readable eager code (the oracle). Chosen for tiny inputs, where the per-call overhead
  of a custom autograd Function costs more than it saves, and whenever the call is traced, exported, compiled
  or run under a function transform (:func:`must_use_reference`).
* ``"small"``: :mod:`.small`, for tiny unmasked ``[N, T, C]`` inputs on CPU: the reference's arithmetic as a
  handful of aten calls (no ``nn.Module`` calls, no masking branches).
* ``"fused"``: :mod:`.fused`, a custom autograd Function over cache-sized blocks of whole rows (any device).
* ``"chunked"``: :mod:`.chunked`, online softmax over time chunks; memory beyond the input grows with the
  chunk, not with T. Chosen when one row no longer fits a block.
* ``"triton"``: :mod:`.triton_pool`, one pass over ``feat`` per direction on CUDA (optional ``triton`` extra).
"""

from __future__ import annotations

import functools
import os

import torch
from torch import Tensor, nn

from . import chunked as _chunked
from . import fused as _fused
from .chunked import chunked_attention_pool
from .fused import fused_attention_pool
from .small import small_attention_pool

#: Every implementation's name; ``AttentionPool(impl=...)`` takes these and ``"auto"``.
IMPLEMENTATIONS = ("reference", "small", "fused", "chunked", "triton")

#: The implementations :func:`attention_pool_kernel` runs (all but the module's own reference).
KERNELS = IMPLEMENTATIONS[1:]

#: Below this many steps (N * T) on CPU the reference's fewer Python-level calls win (measured, see
#: benchmarks/results/pooling_speed.md).
MIN_FUSED_STEPS = 2048

#: Rows longer than this go to the chunked path on CPU (its scratch does not grow with T).
CHUNKED_MIN_STEPS = 1 << 21

# Looked up once: at the spec's size every attribute lookup on the hot path is a visible share of a 30 us call.
_tracing_state = torch._C._get_tracing_state  # jit.trace and the legacy ONNX exporter (which traces)
_functorch_level = torch._C._functorch.peek_interpreter_stack  # vmap, grad, jacrev, functionalize, ...
# The function, not its flag: dynamo folds the call to True without a guard (reading the flag would guard on it).
_is_compiling = torch.compiler.is_compiling  # torch.compile, torch.export, the dynamo ONNX exporter


def must_use_reference() -> bool:
    """True while the call is traced, exported, compiled or run under a function transform.

    The fast paths step aside then (timm's ``use_fused_attn`` does the same when exporting): the custom
    autograd Functions have no ``setup_context``/vmap rule and cannot be serialised in a TorchScript graph,
    and the small path's grad-mode branch would make a trace depend on the grad mode. The reference is plain
    aten ops, so every tool sees through it. Covered: ``torch.jit.trace`` and ``torch.onnx.export(dynamo=False)``
    (a tracing state is set), ``torch.func`` transforms (an interpreter on functorch's stack),
    ``torch.compile``, ``torch.export`` and ``torch.onnx.export(dynamo=True)`` (``torch.compiler.is_compiling()``).
    ``torch.jit.script`` never runs this code: :meth:`attnpool.AttentionPool.__prepare_scriptable__` refuses it.
    """
    return _tracing_state() is not None or _functorch_level() is not None or _is_compiling()


def choose_impl(feat: Tensor, mask: Tensor | None, attention: nn.Sequential) -> str:
    """Name of the implementation for this input: one of :data:`IMPLEMENTATIONS`.

    Args:
        feat: ``[..., T, C]``.
        mask: ``[..., T]`` bool or None.
        attention: the scoring MLP ``Sequential(Linear(C, H), ReLU(), Linear(H, 1))``.
    """
    # Cheapest tests first: at the spec's size this function's own cost is a sizeable share of the call.
    if must_use_reference():
        return "reference"
    if not feat.is_cuda and feat.numel() < MIN_FUSED_STEPS * feat.shape[-1]:
        # Tiny CPU inputs: decided before the parameter check (about 1 us, a visible share of a 30 us call);
        # the small path checks the dtype itself.
        return "small" if mask is None and feat.dim() == 3 else "reference"
    if not _params_match(feat, attention):
        return "reference"  # which raises the clear dtype error (or torch's, for a device mismatch)
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
        impl: ``"small"``, ``"fused"``, ``"chunked"`` or ``"triton"`` (``"reference"`` belongs to the module).
        feat: ``[..., T, C]`` floating tensor, any number of leading axes.
        attention: ``Sequential(Linear(C, H), ReLU(), Linear(H, 1))`` with parameters of ``feat``'s dtype.
        mask: ``[..., T]`` bool (True = valid step) or None; ``"small"`` takes no mask.
        temperature: positive; scores are divided by it before the softmax.

    Returns:
        ``(pooled [..., C], weights [..., T])``.
    """
    if impl == "small" and mask is None and feat.dim() == 3:
        # The spec-sized hot path: no reshapes, no Sequential indexing (~0.4 us each).
        first, _, second = attention._modules.values()
        if first.weight.dtype != feat.dtype:
            raise_dtype_mismatch(feat, first.weight.dtype, "AttentionPool")
        return small_attention_pool(feat, first.weight, first.bias, second.weight, second.bias, temperature)
    if impl not in KERNELS:
        raise ValueError(f"impl must be one of {KERNELS}, got {impl!r}")
    first, second = attention[0], attention[2]
    if impl == "triton":
        _check_triton_device(feat)
    if impl == "small" and mask is not None:
        raise ValueError("impl='small' pools unmasked inputs only, got a mask; use impl='auto' or 'fused' with a mask")
    if not _params_match(feat, attention):
        if first.weight.dtype != feat.dtype:
            raise_dtype_mismatch(feat, first.weight.dtype, "AttentionPool")
        raise TypeError(
            f"impl={impl!r} needs the attention MLP's parameters on feat's device ({feat.device}), "
            f"got {first.weight.device}"
        )
    *lead, steps, channels = feat.shape
    # [..., T, C] -> [N, T, C]; reshape copies only if the leading axes cannot be merged.
    x = feat.reshape(-1, steps, channels)
    if not x.is_contiguous():
        x = x.contiguous()
    m = mask.reshape(-1, steps) if mask is not None else None
    params = (first.weight, first.bias, second.weight, second.bias)
    if impl == "small":
        pooled, weights = small_attention_pool(x, *params, temperature)
    elif impl == "fused":
        # Block sizes are read at call time, so tests can shrink them to exercise many blocks.
        pooled, weights = fused_attention_pool(x, m, *params, temperature, _fused.DEFAULT_BLOCK_STEPS)
    elif impl == "chunked":
        pooled, weights = chunked_attention_pool(x, m, *params, temperature, _chunked.DEFAULT_CHUNK_STEPS)
    else:
        from .triton_pool import triton_attention_pool  # lazy: triton is an optional extra

        pooled, weights = triton_attention_pool(x, m, *params, temperature)
    return pooled.reshape(*lead, channels), weights.reshape(*lead, steps)


def raise_dtype_mismatch(feat: Tensor, expected: torch.dtype, owner: str) -> None:
    """Raise the one dtype error of every pooling: feat's dtype differs from the module's parameters'."""
    raise TypeError(
        f"feat must have the dtype of {owner}'s parameters ({expected}), got {feat.dtype}; "
        f"cast the input (feat.to({expected})) or the module (.to({feat.dtype}))"
    )


@functools.lru_cache(maxsize=1)
def triton_available() -> bool:
    """True when ``triton`` imports (the ``triton`` extra is installed)."""
    try:
        import triton  # noqa: F401
    except Exception:  # ImportError, or a broken install raising anything at import
        return False
    return True


def _check_triton_device(feat: Tensor) -> None:
    # Triton's own message on a CPU tensor is "0 active drivers"; CPU runs only under its interpreter (tests).
    if not feat.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError(
            f"impl='triton' needs feat on a CUDA device (and the triton extra: pip install 'attnpool[triton]'), "
            f"got feat on {feat.device}; use impl='auto' or 'fused' there"
        )
    if not triton_available():
        raise ImportError("impl='triton' needs the triton package: pip install 'attnpool[triton]'")


def _params_match(feat: Tensor, attention: nn.Sequential) -> bool:
    # AttentionPool always builds Sequential(Linear(C, H), ReLU(), Linear(H, 1)) with biases; only the
    # parameters' dtype and device can differ from feat's.
    w = attention[0].weight
    return w.dtype == feat.dtype and w.device == feat.device


__all__ = [
    "IMPLEMENTATIONS",
    "KERNELS",
    "attention_pool_kernel",
    "choose_impl",
    "must_use_reference",
    "raise_dtype_mismatch",
    "triton_available",
]
