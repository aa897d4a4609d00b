"""Per-node temporal encoders with shared weights: ``x [B*N, T, F]`` -> ``h [B*N, T, C]``.

Every encoder keeps one rule: values at padded (masked) steps never change the encoding of valid steps
and never reach the output at all (masked inputs are zeroed first). ``linear``, ``tcn`` and ``gru`` are causal
(step t sees steps <= t only), so right-padding leaves every valid step's encoding exactly as it was;
``resconv`` (the default since issue 9, :mod:`.resconv`) is non-causal and zeroes masked steps before every
convolution and keeps them out of its normalisation statistics, which makes the same guarantee exact.
"""

from __future__ import annotations

import inspect

from torch import Tensor, nn

from .registry import build
from .resconv import ResConvEncoder


def make_encoder(name: str, in_features: int, channels: int, *, layers: int | None = None,
                 kernel_size: int | None = None, dropout: float = 0.1, steps: int | None = None,
                 stride: int | None = None, device=None, dtype=None) -> nn.Module:
    """Build the encoder called ``name`` (a key of :data:`ENCODERS`: ``resconv``, ``linear``, ``tcn``, ``gru``).

    Args:
        name: the encoder's name; ``-``, ``_`` and case are ignored, as in :func:`attnpool.make_pool`.
        in_features: F, features per step.
        channels: C, the encoding's width.
        layers: depth, for encoders that have layers (default: the encoder's own: TCN 3, GRU 2).
        kernel_size: convolution width, for convolutional encoders (default: the encoder's own: TCN 3).
        dropout: dropout, for encoders that use it (default: 0.1).
        steps: the (longest) series length T the model is built for; encoders whose depth follows T
            (``resconv``) take it, the others do not need it (default: None, the encoder's own depth).
        stride: the stem stride, for encoders that have one (``resconv``; default: None, the encoder's own: 1).
        device, dtype: where and in which dtype the parameters are created, as torch's own layers take them.
    """
    options = {"dropout": dropout, "device": device, "dtype": dtype}
    if steps is not None:  # facts about the data, not a choice: offered to the encoders that take it
        options["steps"] = steps
    # None = "the encoder's own default": only values the caller chose are passed on, and honoured.
    options.update({k: v for k, v in (("layers", layers), ("kernel_size", kernel_size), ("stride", stride))
                    if v is not None})
    encoder = build(ENCODERS, "encoder", name, in_features, channels, **options)
    for key in ("layers", "kernel_size", "stride"):
        if key in options and key not in inspect.signature(type(encoder)).parameters:
            raise ValueError(f"encoder {name!r} has no option {key}, got {key}={options[key]!r}")
    return encoder


class LinearEncoder(nn.Module):
    """Pointwise ``Linear(F, C) -> GELU``: each step encoded on its own.

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int, *, device=None, dtype=None):
        super().__init__()
        self.proj = nn.Linear(in_features, channels, device=device, dtype=dtype)
        self.act = nn.GELU()
        self.depth = 1  # layers, for the training recipe's work rule

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return _zero(self.act(self.proj(_zero(x, mask))), mask)


class TCNEncoder(nn.Module):
    """Dilated causal Conv1d blocks with residuals (dilations 1, 2, 4, ...), after a pointwise input projection.

    The receptive field is ``1 + (kernel_size - 1) * (2**layers - 1)`` steps (3 layers, kernel 3: 15 steps).

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int, *, layers: int = 3, kernel_size: int = 3, dropout: float = 0.1,
                 device=None, dtype=None):
        super().__init__()
        for key, value in (("layers", layers), ("kernel_size", kernel_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an int >= 1, got {value!r}")
        self.depth = layers  # for the training recipe's work rule
        self.proj = nn.Linear(in_features, channels, device=device, dtype=dtype)
        self.blocks = nn.ModuleList(
            CausalConvBlock(channels, kernel_size, dilation=2**i, dropout=dropout, device=device, dtype=dtype)
            for i in range(layers)
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        h = _zero(self.proj(_zero(x, mask)), mask).transpose(1, 2)  # [B*N, T, C] -> [B*N, C, T]
        conv_mask = None if mask is None else mask.unsqueeze(1)  # [B*N, 1, T]
        for block in self.blocks:
            h = block(h)
            if conv_mask is not None:
                h = h.masked_fill(~conv_mask, 0.0)
        return h.transpose(1, 2)  # [B*N, T, C]


class CausalConvBlock(nn.Module):
    """``h + Dropout(GELU(CausalConv(h)))`` over ``[B, C, T]``; left padding keeps it causal."""

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float, *, device=None, dtype=None):
        super().__init__()
        self.left = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation, device=device, dtype=dtype)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, h: Tensor) -> Tensor:
        out = self.conv(nn.functional.pad(h, (self.left, 0)))
        return h + self.drop(self.act(out))


class GRUEncoder(nn.Module):
    """A unidirectional GRU after a pointwise projection (causal, so right-padding changes nothing).

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int, *, layers: int = 2, dropout: float = 0.1, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers must be an int >= 1, got {layers!r}")
        self.depth = layers  # for the training recipe's work rule
        self.proj = nn.Linear(in_features, channels, device=device, dtype=dtype)
        self.gru = nn.GRU(channels, channels, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0,
                          device=device, dtype=dtype)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        h = _zero(self.proj(_zero(x, mask)), mask)
        out, _ = self.gru(h)
        return _zero(out, mask)


def _zero(x: Tensor, mask: Tensor | None) -> Tensor:
    """Zero ``x [..., T, F]`` at masked steps (``mask [..., T]`` False)."""
    if mask is None:
        return x
    return x.masked_fill(~mask.unsqueeze(-1), 0.0)


# Name -> encoder class. Every class takes ``(in_features, channels, *, ...)`` and maps ``x [B*N, T, F]``,
# ``mask [B*N, T]`` to ``[B*N, T, C]``; a new encoder joins by adding its entry here.
ENCODERS: dict[str, type[nn.Module]] = {
    "resconv": ResConvEncoder,
    "linear": LinearEncoder,
    "tcn": TCNEncoder,
    "gru": GRUEncoder,
}

__all__ = ["ENCODERS", "make_encoder", "ResConvEncoder", "LinearEncoder", "TCNEncoder", "GRUEncoder", "CausalConvBlock"]
