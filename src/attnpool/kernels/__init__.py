"""Fast implementations of attention pooling, chosen by a small dispatcher.

The eager reference (:meth:`attnpool.AttentionPool.reference`) is the oracle every kernel is tested against.
``fused`` and ``chunked`` run on any device; ``triton`` (CUDA, optional extra) is imported only when used.
"""

from .chunked import chunked_attention_pool
from .dispatch import attention_pool_kernel, choose_impl, triton_available
from .fused import fused_attention_pool

__all__ = [
    "attention_pool_kernel",
    "choose_impl",
    "chunked_attention_pool",
    "fused_attention_pool",
    "triton_available",
]
