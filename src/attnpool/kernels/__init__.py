"""Fast implementations of attention pooling, chosen by a small dispatcher.

The eager reference (:meth:`attnpool.AttentionPool.reference`) is the oracle every kernel is tested against.
:data:`IMPLEMENTATIONS` is the one list of their names. ``small``, ``fused`` and ``chunked`` run on any device;
``triton`` (CUDA, optional extra) is imported only when used.
"""

from .chunked import chunked_attention_pool
from .dispatch import (
    IMPLEMENTATIONS,
    KERNELS,
    attention_pool_kernel,
    choose_impl,
    must_use_reference,
    raise_dtype_mismatch,
    triton_available,
)
from .fused import fused_attention_pool
from .small import small_attention_pool

__all__ = [
    "IMPLEMENTATIONS",
    "KERNELS",
    "attention_pool_kernel",
    "choose_impl",
    "chunked_attention_pool",
    "fused_attention_pool",
    "must_use_reference",
    "raise_dtype_mismatch",
    "small_attention_pool",
    "triton_available",
]
