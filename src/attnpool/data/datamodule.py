"""The Lightning DataModule over a :class:`TimeSeriesSet`: train and val loaders. Needs the ``train`` extra."""

from __future__ import annotations

import lightning as L

from .loader import make_loader


class SeriesDataModule(L.LightningDataModule):
    """Train/val loaders over a :class:`~attnpool.data.TimeSeriesSet` (already loaded and validated).

    ``drop_last``: the train loader drops the last partial batch (the training schedule's choice)."""

    def __init__(self, data, batch_size: int, seed: int, drop_last: bool = False):
        super().__init__()
        self.data, self.batch_size, self.seed, self.drop_last = data, batch_size, seed, drop_last

    def train_dataloader(self):
        return make_loader(self.data, "train", self.batch_size, shuffle=True, seed=self.seed, drop_last=self.drop_last)

    def val_dataloader(self):
        return make_loader(self.data, "val", self.batch_size, shuffle=False, seed=self.seed)


__all__ = ["SeriesDataModule"]
