"""The base class every temporal pooling shares: one forward signature, argument checks at the door.

dtype rule (every pooling, every path): ``feat`` must be a floating tensor (TypeError otherwise). A pooling
with parameters computes in its parameters' dtype and refuses a ``feat`` of another dtype with one TypeError
that names ``feat``, its dtype and the module's (no silent cast: a cast would hide a float64 pipeline running
in float32, or a float16 input losing nothing but then being compared with float32 results). A
parameter-free pooling (mean, max, last) has no dtype of its own: it computes in ``feat``'s dtype.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..kernels import raise_dtype_mismatch
from .functional import check_feat, check_mask


class TemporalPool(nn.Module):
    """Base class of poolings over time: ``feat [..., T, C]`` -> ``[..., C]``.

    Subclasses implement :meth:`pool`, which receives checked inputs. Every pooling has the same call:
    ``pool(feat, mask=None, return_weights=False)``; with ``return_weights=True`` it returns
    ``(pooled [..., C], weights [..., T])`` (multi-head: ``[..., T, k]``), weights summing to 1 over the valid
    steps of each row and 0 on a row with no valid step.

    Every pooling takes the factory keywords ``device`` and ``dtype`` (PyTorch's convention), so that
    ``make_pool(name, C, device=..., dtype=...)`` works for every name; a parameter-free pooling has nothing
    to place and computes in ``feat``'s dtype on ``feat``'s device.

    ``torch.jit.script`` is refused with a clear RuntimeError: ``forward`` returns a tensor or a tuple
    depending on ``return_weights``, which TorchScript cannot type. ``torch.jit.trace``, ``torch.export`` and
    both ONNX exporters work.

    Args:
        in_features: channel count C of ``feat``.
        device: where parameters are created (default: torch's default device).
        dtype: floating dtype of the parameters (default: torch's default dtype).
    """

    def __init__(self, in_features: int, *, device: torch.device | str | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        _check_positive_int("in_features", in_features)
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype (or None), got {dtype!r}")
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

    def __prepare_scriptable__(self):
        # torch.jit.script calls this on every submodule before compiling: say why it cannot work here instead
        # of TorchScript's error about the union return type deep inside forward.
        raise RuntimeError(
            f"{type(self).__name__} cannot be compiled by torch.jit.script: forward returns a tensor or a "
            "(pooled, weights) tuple depending on return_weights, which TorchScript cannot type. Use "
            "torch.jit.trace, torch.export or torch.onnx.export (they run the reference path)."
        )

    def extra_repr(self) -> str:
        return f"{self.in_features}"

    def __repr__(self) -> str:
        # Short, like PyG's aggregations: ``AttentionPool(32, hidden=16)``; the MLP's layout is in the docs.
        return f"{type(self).__name__}({self.extra_repr()})"


def check_param_dtype(feat: Tensor, weight: Tensor, owner: str) -> None:
    """The dtype rule above, for a pooling with parameters: ``feat``'s dtype must be ``weight``'s."""
    if feat.dtype != weight.dtype:
        raise_dtype_mismatch(feat, weight.dtype, owner)  # one message for every pooling and kernel


def hidden_width(in_features: int, hidden_features: int | None) -> int:
    """The scoring MLP's hidden width: ``hidden_features``, checked, or ``in_features // 2`` (at least 1)."""
    if hidden_features is None:
        return max(in_features // 2, 1)
    _check_positive_int("hidden_features", hidden_features)
    return hidden_features


def scoring_mlp(in_features: int, hidden_features: int, **factory_kwargs) -> nn.Sequential:
    """The spec's scorer ``Sequential(Linear(C, H), ReLU(), Linear(H, 1))`` (keys ``0.weight`` ... ``2.bias``)."""
    return nn.Sequential(
        nn.Linear(in_features, hidden_features, **factory_kwargs),
        nn.ReLU(),
        nn.Linear(hidden_features, 1, **factory_kwargs),
    )


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
