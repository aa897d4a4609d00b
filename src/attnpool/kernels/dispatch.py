"""Pick an implementation of attention pooling by device, dtype and size."""

from __future__ import annotations

from torch import Tensor, nn


def choose_impl(feat: Tensor, mask: Tensor | None, attention: nn.Sequential) -> str:
    """Name of the implementation to use for this input (``"reference"`` until a kernel applies)."""
    return "reference"


def attention_pool_kernel(
    impl: str, feat: Tensor, attention: nn.Sequential, mask: Tensor | None, temperature: float
) -> tuple[Tensor, Tensor]:
    """Run attention pooling with kernel ``impl``: ``(pooled [..., C], weights [..., T])``."""
    raise NotImplementedError(f"impl={impl!r} is not available yet; use impl='reference'")
