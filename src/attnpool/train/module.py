"""The LightningModule that trains a :class:`~attnpool.models.SpatioTemporalNet` (its DataModule is
:class:`attnpool.data.SeriesDataModule`)."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F

from ..errors import TrainingDiverged
from ..models import SpatioTemporalNet


class PoolingModule(L.LightningModule):
    """Loss, optimiser and logged metrics around a SpatioTemporalNet.

    Losses: cross-entropy (classify); mean squared error in standardised units (regress, forecast), so every
    node and output counts alike whatever its scale.
    """

    def __init__(self, model_kwargs: dict, lr: float = 3e-3, weight_decay: float = 1e-4, epochs: int = 60):
        super().__init__()
        self.save_hyperparameters()
        self.model = SpatioTemporalNet(**model_kwargs)
        self.lr, self.weight_decay, self.epochs = lr, weight_decay, epochs

    def forward(self, x, mask=None):
        return self.model(x, mask)

    def loss(self, batch):
        pred, _ = self.model(batch["x"], batch["mask"])
        y = batch["y"]
        model = self.model
        if model.task == "classify":
            loss = F.cross_entropy(pred, y)
            return loss, {"accuracy": (pred.argmax(-1) == y).float().mean()}
        if model.task == "regress":
            scale = model.y_std
        else:  # forecast: the target feature's scale, per node -> [N, 1]
            scale = model.x_std[:, model.target_feature].unsqueeze(-1)
        loss = (((pred - y) / scale) ** 2).mean()
        return loss, {"mae": (pred - y).abs().mean()}

    def training_step(self, batch, batch_idx):
        loss, _ = self.loss(batch)
        if not torch.isfinite(loss):
            # Stop at once: every later step would train on NaN weights, and early stopping would only notice at
            # the end of the epoch, leaving a "finished" run that predicts NaN.
            raise TrainingDiverged(f"training diverged: the loss is {loss.item()} at epoch {self.current_epoch}, "
                                   f"batch {batch_idx}; no model was saved; try a lower --lr (now {self.lr:g})")
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(batch["y"]), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, extra = self.loss(batch)
        size = len(batch["y"])
        self.log("val_loss", loss, prog_bar=True, batch_size=size, sync_dist=True)
        for name, value in extra.items():
            self.log(f"val_{name}", value, prog_bar=True, batch_size=size, sync_dist=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.epochs, 1))
        return {"optimizer": optimizer, "lr_scheduler": schedule}
