"""A plain torch ``DataLoader`` over a :class:`TimeSeriesSet` split (no Lightning needed)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import DataError
from .dataset import SPLITS, TimeSeriesSet


class SplitDataset(Dataset):
    """One split of a :class:`TimeSeriesSet` as a torch ``Dataset`` of dicts.

    Item ``i``: ``{"x": [N, T, F] float32, "mask": [N, T] bool, "y": target, "index": int64}``, where
    ``index`` is the sample's position in the whole set (to look up ``ds.baseline``, ``ds.meta``...).
    """

    def __init__(self, ds: TimeSeriesSet, split: str):
        if split not in SPLITS:
            raise DataError(f"{ds.source}: split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.indices = torch.as_tensor(np.asarray(ds.splits.get(split, []), dtype=np.int64))
        # Tensors are built once; items are views, so an epoch costs no copies of the whole set.
        self.x = torch.from_numpy(np.ascontiguousarray(ds.x, dtype=np.float32))
        mask = np.ones(ds.x.shape[:3], dtype=bool) if ds.mask is None else ds.mask
        self.mask = torch.from_numpy(np.ascontiguousarray(mask))
        self.y = torch.from_numpy(np.ascontiguousarray(ds.y))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        j = self.indices[i]
        return {"x": self.x[j], "mask": self.mask[j], "y": self.y[j], "index": j}


def make_loader(
    ds: TimeSeriesSet, split: str, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A ``DataLoader`` over one split, yielding batches of dicts.

    Args:
        ds: the data set.
        split: ``"train"``, ``"val"`` or ``"test"``.
        batch_size: samples per batch (default: 64).
        shuffle: reshuffle every epoch, in an order fixed by ``seed`` (default: False).
        seed: seed of the shuffling order (default: 0).
        drop_last: drop the last batch when it is smaller than ``batch_size`` (default: False).

    Returns:
        Batches ``{"x": [B, N, T, F] float32, "mask": [B, N, T] bool (all True when ds.mask is None),
        "y": [B] int64 | [B, D] / [B, N, D] / [B, N, H] float32, "index": [B] int64}``; num_workers=0.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"{ds.source}: batch_size must be a positive int, got {batch_size!r}")
    generator = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(
        SplitDataset(ds, split), batch_size=batch_size, shuffle=shuffle, generator=generator, num_workers=0,
        drop_last=drop_last,
    )
