"""The base class every temporal pooling shares: one forward signature, argument checks at the door."""

from __future__ import annotations

from torch import Tensor, nn

from .functional import check_feat, check_mask


class TemporalPool(nn.Module):
    """Base class of poolings over time: ``feat [..., T, C]`` -> ``[..., C]``.

    Subclasses implement :meth:`pool`, which receives checked inputs. Every pooling has the same call:
    ``pool(feat, mask=None, return_weights=False)``; with ``return_weights=True`` it returns
    ``(pooled [..., C], weights [..., T])`` (multi-head: ``[..., T, k]``), weights summing to 1 over the valid
    steps of each row and 0 on a row with no valid step.

    Args:
        in_features: channel count C of ``feat``.
    """

    def __init__(self, in_features: int):
        super().__init__()
        _check_positive_int("in_features", in_features)
        self.in_features = in_features

    def forward(self, feat: Tensor, mask: Tensor | None = None, return_weights: bool = False):
        """Pool over time.

        Args:
            feat: ``[..., T, C]`` floating tensor, any number of leading axes.
            mask: optional bool ``[..., T]``, True = valid step.
            return_weights: also return the per-step weights.

        Returns:
            ``pooled [..., C]``, or ``(pooled, weights)`` when ``return_weights``.
        """
        check_feat(feat, self.in_features)
        check_mask(mask, feat)
        pooled, weights = self.pool(feat, mask)
        if return_weights:
            return pooled, weights
        return pooled

    def pool(self, feat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Re-initialise learnable parameters (none by default)."""

    def extra_repr(self) -> str:
        return f"{self.in_features}"

    def __repr__(self) -> str:
        # Short, like PyG's aggregations: ``AttentionPool(32, hidden=16)``; the MLP's layout is in the docs.
        return f"{type(self).__name__}({self.extra_repr()})"


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")


def _check_positive_float(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value}")


def _check_probability(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1), got {type(value).__name__} {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
