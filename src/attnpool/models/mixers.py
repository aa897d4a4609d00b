"""Mixing across nodes after temporal pooling: ``z [B, N, C]`` -> ``[B, N, C]``.

* ``none``: nodes stay independent.
* ``graph``: one round of message passing ``z + GELU(Linear(A z))`` over a row-normalised adjacency with self
  loops; the adjacency is given (``[N, N]``) or learned from node embeddings (softmax(ReLU(E E^T)), as in
  Graph WaveNet's adaptive adjacency).
* ``attention``: self-attention across nodes (a Transformer encoder layer); nodes with no valid step are
  masked out as keys.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .registry import build


def make_mixer(name: str, channels: int, n_nodes: int, *, adjacency: Tensor | None = None, heads: int = 4,
               dropout: float = 0.1, device=None, dtype=None) -> nn.Module:
    """Build the mixer called ``name`` (a key of :data:`MIXERS`: ``none``, ``graph``, ``attention``).

    Each mixer takes the options it uses: ``adjacency`` (graph), ``heads`` and ``dropout`` (attention), and
    ``device`` / ``dtype`` for its parameters.
    """
    return build(MIXERS, "mixer", name, channels, n_nodes, adjacency=adjacency, heads=heads, dropout=dropout,
                 device=device, dtype=dtype)


class NoMixer(nn.Module):
    """Identity: ``z [B, N, C]`` unchanged."""

    def __init__(self, channels: int, n_nodes: int):
        super().__init__()

    def forward(self, z: Tensor, node_mask: Tensor | None = None) -> Tensor:
        return z


class GraphMixer(nn.Module):
    """Message passing over a fixed or learned adjacency.

    Args:
        channels: C.
        n_nodes: N.
        adjacency: ``[N, N]`` non-negative weights (edge j -> i at ``[i, j]``); None = learned.
        embed_dim: size of the node embeddings of a learned adjacency (default: 8).

    Shapes: z ``[B, N, C]``, node_mask ``[B, N]`` -> ``[B, N, C]``.
    """

    def __init__(self, channels: int, n_nodes: int, *, adjacency: Tensor | None = None, embed_dim: int = 8,
                 device=None, dtype=None):
        super().__init__()
        self.lin = nn.Linear(channels, channels, device=device, dtype=dtype)
        self.act = nn.GELU()
        if adjacency is not None:
            adjacency = torch.as_tensor(adjacency, dtype=torch.float32)
            if adjacency.shape != (n_nodes, n_nodes):
                raise ValueError(f"adjacency must have shape [N, N] = [{n_nodes}, {n_nodes}], got {list(adjacency.shape)}")
            if not torch.isfinite(adjacency).all() or (adjacency < 0).any():
                raise ValueError("adjacency must hold finite, non-negative weights")
            adjacency = _row_normalise(adjacency + torch.eye(n_nodes))
            self.register_buffer("adjacency", adjacency.to(device=device, dtype=dtype or adjacency.dtype))
            self.embedding = None
        else:
            self.adjacency = None
            self.embedding = nn.Parameter(torch.randn(n_nodes, embed_dim, device=device, dtype=dtype) * 0.1)

    def weights(self) -> Tensor:
        """The row-normalised adjacency in use, ``[N, N]``."""
        if self.adjacency is not None:
            return self.adjacency
        return torch.softmax(torch.relu(self.embedding @ self.embedding.T), dim=-1)

    def forward(self, z: Tensor, node_mask: Tensor | None = None) -> Tensor:
        adjacency = self.weights()
        if node_mask is not None:  # messages only from nodes that had data
            adjacency = adjacency * node_mask.unsqueeze(-2).to(z.dtype)  # [B, N, N]
            adjacency = adjacency / adjacency.sum(-1, keepdim=True).clamp_min(1e-12)
        message = adjacency @ z  # [B, N, C]
        return z + self.act(self.lin(message))


class AttentionMixer(nn.Module):
    """Self-attention across nodes: one pre-norm Transformer encoder layer.

    Shapes: z ``[B, N, C]``, node_mask ``[B, N]`` (True = node has data) -> ``[B, N, C]``.
    """

    def __init__(self, channels: int, n_nodes: int | None = None, *, heads: int = 4, dropout: float = 0.1,
                 device=None, dtype=None):
        super().__init__()
        # Refused rather than lowered, as MultiHeadAttentionPool does: the user asked for these heads.
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or channels % heads:
            raise ValueError(f"heads must be a positive int that divides channels={channels}, got heads={heads!r}")
        self.layer = nn.TransformerEncoderLayer(
            channels, heads, dim_feedforward=2 * channels, dropout=dropout, batch_first=True, norm_first=True,
            device=device, dtype=dtype,
        )

    def forward(self, z: Tensor, node_mask: Tensor | None = None) -> Tensor:
        padding = None
        if node_mask is not None:
            padding = ~node_mask
            # A sample with no valid node at all would give NaN attention: let it attend to everything.
            padding = padding & node_mask.any(-1, keepdim=True)
        return self.layer(z, src_key_padding_mask=padding)


def _row_normalise(a: Tensor) -> Tensor:
    return a / a.sum(-1, keepdim=True).clamp_min(1e-12)


# Name -> mixer class. Every class takes ``(channels, n_nodes, *, ...)`` and maps ``z [B, N, C]``,
# ``node_mask [B, N]`` to ``[B, N, C]``.
MIXERS: dict[str, type[nn.Module]] = {
    "none": NoMixer,
    "graph": GraphMixer,
    "attention": AttentionMixer,
}

__all__ = ["MIXERS", "make_mixer", "NoMixer", "GraphMixer", "AttentionMixer"]
