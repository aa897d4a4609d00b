"""Per-node temporal encoders with shared weights: ``x [B*N, T, F]`` -> ``h [B*N, T, C]``.

Every encoder keeps one rule: values at padded (masked) steps never change the encoding of valid steps
that come before them, and never reach the output at all (masked inputs are zeroed first). The encoders are
causal (step t sees steps <= t only), so right-padding leaves every valid step's encoding exactly as it was.
"""

from __future__ import annotations

from torch import Tensor, nn

ENCODERS = ("linear", "tcn", "gru")


def make_encoder(name: str, in_features: int, channels: int, *, layers: int = 3, kernel_size: int = 3,
                 dropout: float = 0.1) -> nn.Module:
    """Build the encoder called ``name`` (one of ``linear``, ``tcn``, ``gru``)."""
    if name == "linear":
        return LinearEncoder(in_features, channels)
    if name == "tcn":
        return TCNEncoder(in_features, channels, layers=layers, kernel_size=kernel_size, dropout=dropout)
    if name == "gru":
        return GRUEncoder(in_features, channels, layers=min(layers, 2), dropout=dropout)
    raise ValueError(f"unknown encoder {name!r}; known encoders: {', '.join(ENCODERS)}")


class LinearEncoder(nn.Module):
    """Pointwise ``Linear(F, C) -> GELU``: each step encoded on its own.

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int):
        super().__init__()
        self.proj = nn.Linear(in_features, channels)
        self.act = nn.GELU()

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return _zero(self.act(self.proj(_zero(x, mask))), mask)


class TCNEncoder(nn.Module):
    """Dilated causal Conv1d blocks with residuals (dilations 1, 2, 4, ...), after a pointwise input projection.

    The receptive field is ``1 + (kernel_size - 1) * (2**layers - 1)`` steps (3 layers, kernel 3: 15 steps).

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int, *, layers: int = 3, kernel_size: int = 3, dropout: float = 0.1):
        super().__init__()
        self.proj = nn.Linear(in_features, channels)
        self.blocks = nn.ModuleList(
            CausalConvBlock(channels, kernel_size, dilation=2**i, dropout=dropout) for i in range(layers)
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

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.left = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, h: Tensor) -> Tensor:
        out = self.conv(nn.functional.pad(h, (self.left, 0)))
        return h + self.drop(self.act(out))


class GRUEncoder(nn.Module):
    """A unidirectional GRU after a pointwise projection (causal, so right-padding changes nothing).

    Shapes: x ``[B*N, T, F]``, mask ``[B*N, T]`` -> ``[B*N, T, C]``.
    """

    def __init__(self, in_features: int, channels: int, *, layers: int = 1, dropout: float = 0.1):
        super().__init__()
        self.proj = nn.Linear(in_features, channels)
        self.gru = nn.GRU(channels, channels, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        h = _zero(self.proj(_zero(x, mask)), mask)
        out, _ = self.gru(h)
        return _zero(out, mask)


def _zero(x: Tensor, mask: Tensor | None) -> Tensor:
    """Zero ``x [..., T, F]`` at masked steps (``mask [..., T]`` False)."""
    if mask is None:
        return x
    return x.masked_fill(~mask.unsqueeze(-1), 0.0)


__all__ = ["ENCODERS", "make_encoder", "LinearEncoder", "TCNEncoder", "GRUEncoder", "CausalConvBlock"]
