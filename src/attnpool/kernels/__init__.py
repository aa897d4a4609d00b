"""Fast implementations of attention pooling, chosen by a small dispatcher.

The eager reference (:meth:`attnpool.AttentionPool.reference`) is the oracle every kernel is tested against.
"""

from .dispatch import attention_pool_kernel, choose_impl

__all__ = ["attention_pool_kernel", "choose_impl"]
