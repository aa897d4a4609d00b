"""Task heads on node vectors ``z [B, N, C]``.

* ``classify``: one label per sample: the N node vectors are concatenated (so the head knows which node
  said what) -> MLP -> ``[B, n_classes]`` logits.
* ``regress``: a vector per sample (``[B, D]``, from the concatenated nodes) or per node (``[B, N, D]``).
* ``forecast``: the next H values of every node, ``[B, N, H]``, predicted as a change from the last observed
  value (the network adds it back), so an untrained head starts at the persistence baseline.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..tasks import TASKS


class SampleHead(nn.Module):
    """``[B, N, C]`` -> flatten -> ``Linear(N*C, hidden) -> GELU -> Dropout -> Linear(hidden, out)`` -> ``[B, out]``."""

    def __init__(self, n_nodes: int, channels: int, out_features: int, *, hidden: int = 64, dropout: float = 0.1,
                 device=None, dtype=None):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(-2),
            nn.Linear(n_nodes * channels, hidden, device=device, dtype=dtype),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_features, device=device, dtype=dtype),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class NodeHead(nn.Module):
    """``[B, N, C]`` -> shared ``Linear(C, hidden) -> GELU -> Linear(hidden, out)`` per node -> ``[B, N, out]``."""

    def __init__(self, channels: int, out_features: int, *, hidden: int = 64, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.net = nn.Sequential(nn.Linear(channels, hidden, **factory), nn.GELU(),
                                 nn.Linear(hidden, out_features, **factory))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


__all__ = ["TASKS", "SampleHead", "NodeHead"]
