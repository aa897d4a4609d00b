"""A plain torch ``DataLoader`` over a :class:`TimeSeriesSet` split (no Lightning needed).

Batches are built whole: the loader's sampler hands the dataset a batch of indices and
:meth:`SplitDataset.__getitems__` builds the batch in one call (:meth:`TimeSeriesSet.batch`: one fancy index
for a set in memory, one gather of window rows for a set over a series), instead of ``B`` item lookups and a
collate that stacks them. The sampler stays torch's own, so Lightning's ``DistributedSampler`` still shards it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import DataError
from .dataset import SPLITS, TimeSeriesSet

FIELDS = ("x", "mask", "y")


class SplitDataset(Dataset):
    """One split of a :class:`TimeSeriesSet` as a torch ``Dataset`` of dicts.

    Item ``i``: ``{"x": [N, T, F] float32, "mask": [N, T] bool, "y": target, "index": int64}``, where
    ``index`` is the sample's position in the whole set (to look up ``ds.baseline``, ``ds.meta``...).
    A batch of items (:meth:`__getitems__`, what ``DataLoader`` calls): the same keys with a leading ``[B]``.
    """

    def __init__(self, ds: TimeSeriesSet, split: str):
        if split not in SPLITS:
            raise DataError(f"{ds.source}: split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.data, self.split = ds, split
        self.indices = np.asarray(ds.splits.get(split, []), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, positions) -> dict[str, torch.Tensor]:
        index = self.indices[np.asarray(positions, dtype=np.int64)]
        batch = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.data.batch(index, FIELDS).items()}
        batch["index"] = torch.from_numpy(index)
        return batch

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([i]).items()}


def built_batch(batch):
    """The loader's ``collate_fn``: :meth:`SplitDataset.__getitems__` already built the batch."""
    return batch


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
        drop_last=drop_last, collate_fn=built_batch,
    )
