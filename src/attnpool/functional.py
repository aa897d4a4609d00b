"""Public functional API: ``attnpool.functional`` re-exports the pooling core (``pooling/functional.py``)."""

from .pooling.functional import (  # noqa: F401
    attention_pool,
    check_feat,
    check_mask,
    masked_softmax,
    mean_weights,
    weighted_sum,
    zero_masked,
)

__all__ = [
    "attention_pool",
    "check_feat",
    "check_mask",
    "masked_softmax",
    "mean_weights",
    "weighted_sum",
    "zero_masked",
]
