"""The LightningModule that trains a :class:`~attnpool.models.SpatioTemporalNet` or an ensemble of them (its
DataModule is :class:`attnpool.data.SeriesDataModule`).

The recipe (issue 9; the reasons are in docs/training.md): AdamW, a linear warm-up then a cosine to 0 over
a fixed number of steps, label smoothing (classify), the gradient norm clipped per member, amplitude-scale,
jitter, circular-shift and mixup augmentation (classify; the shift only where the data's sizes allow it), and an
exponential moving average (EMA) of the weights, which is the model that is validated and saved.
"""

from __future__ import annotations

import copy

import lightning as L
import torch
import torch.nn.functional as F

from ..errors import TrainingDiverged
from ..models import SpatioTemporalEnsemble, build_model
from .schedule import MIXUP_ALPHA, ema_decay, lr_factor, resolve_augment

# Augmentation sizes, in standardised units (the model's per-node, per-feature statistics): every sample-node
# series is multiplied around its mean by 1 + 0.1 * N(0, 1), and every value gets N(0, 0.03^2) added.
SCALE_STD = 0.1
JITTER_STD = 0.03


class PoolingModule(L.LightningModule):
    """Loss, optimiser, schedule, augmentation and weight averaging around a model built by
    :func:`attnpool.models.build_model`.

    Losses: cross-entropy with label smoothing (classify); mean squared error in standardised units (regress,
    forecast), so every node and output counts alike whatever its scale. An ensemble's members are trained
    side by side on the same batches, each on its own loss (with its own augmentation noise and dropout), so
    a K-member run is K independent models that share only the order of the data.

    Args:
        model_kwargs: the model's arguments (``members`` >= 2: an ensemble).
        lr: AdamW's peak learning rate (default: 3e-3).
        weight_decay: AdamW's decoupled weight decay (default: 0.05).
        warmup: fraction of the steps with a linear warm-up (default: 0.05); then a cosine to 0.
        label_smoothing: classify only (default: 0.1).
        grad_clip: maximum gradient norm per member; 0 = no clipping (default: 1.0).
        ema: decay of the weights' moving average; 0 = no averaging, the last weights are the model
            (default: 0.99).
        augment: ``"auto"`` | ``"none"`` | ``"scale"``, ``"jitter"``, ``"shift"``, ``"mixup"``, comma-separated
            (default: auto).
        shift: the largest circular shift ``k`` in steps of the ``shift`` augmentation, decided by the recipe
            from the data (:func:`attnpool.train.schedule.shift_steps`); 0 = no shift (default: 0).
        seed: ensembles: member ``k`` starts from seed ``seed + k`` (default: 0).
        total_steps: the optimizer steps of the run when no Trainer knows them (default: None, the Trainer's
            ``estimated_stepping_batches``).
    """

    def __init__(self, model_kwargs: dict, lr: float = 3e-3, weight_decay: float = 0.05, *, warmup: float = 0.05,
                 label_smoothing: float = 0.1, grad_clip: float = 1.0, ema: float = 0.99, augment: str = "auto",
                 shift: int = 0, seed: int = 0, total_steps: int | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.model = build_model(model_kwargs, seed=seed)
        self.lr, self.weight_decay, self.warmup = lr, weight_decay, warmup
        self.label_smoothing, self.grad_clip, self.ema_decay = label_smoothing, grad_clip, ema
        self.augmentations = resolve_augment(augment, self.model.task)
        if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
            raise ValueError(f"shift must be an int >= 0, got {shift!r}")
        self.shift = shift if "shift" in self.augmentations else 0
        # mixup's Beta(a, a), built once: building it costs ~140 us, a per-step cost for every member
        alpha = torch.tensor(MIXUP_ALPHA)
        self._mixup_lam = torch.distributions.Beta(alpha, alpha) if "mixup" in self.augmentations else None
        self.total_steps = total_steps
        # The EMA copy is a submodule, so Lightning's checkpoints hold it (and --resume continues it); it is
        # filled from the model at the first update (after fit_normalization has set the model's statistics).
        self.ema_model = None
        if ema > 0:
            self.ema_model = copy.deepcopy(self.model).requires_grad_(False)
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        self._epoch_loss, self._epoch_samples = None, 0  # the epoch's summed training loss (see training_step)

    @property
    def members(self) -> list:
        model = self.model
        return list(model.members) if isinstance(model, SpatioTemporalEnsemble) else [model]

    @property
    def averaged(self) -> torch.nn.Module:
        """The model that is validated and saved: the EMA (when on), else the trained weights."""
        return self.ema_model if self.ema_model is not None else self.model

    def forward(self, x, mask=None):
        return self.averaged(x, mask)

    # ---- losses ------------------------------------------------------------------------------------------

    def loss(self, batch, model=None, augment: bool = False):
        """``(loss, extra metrics)`` of ``model`` (default: the averaged model) on ``batch``; ``augment``: the
        training loss, on augmented inputs (and mixed ones under ``mixup``: ``lam * loss(y) + (1 - lam) *
        loss(y[perm])``, extra metrics then against ``y``). A model with a distribution summary head trains
        each head on its own loss (their sum; the network's gradient is its head's alone), the summary head on
        the clean batch's summary; the extra metrics are the mixed prediction's."""
        model = self.averaged if model is None else model
        x, mask, y = batch["x"], batch["mask"], batch["y"]
        mix = summary = None
        if augment:
            # The distribution summary (models with one) is read off the clean batch: jitter and scaling move
            # the fraction of steps above thresholds in the dense parts of a series' distribution far more
            # than they move the series (ACSF1: 0.14 with the summary read off augmented inputs, seeds 0 and 1;
            # docs/research/issue9-recipe-r5.md).
            summary = model.distribution_summary(x, mask)  # None without a summary head
            # Augmented (and mixed) on the scale the model reads the input (its log rule's, where it has one),
            # where x_mean / x_std live: jitter of a raw count's std would swamp its small counts.
            x = self.augment(model.to_input_units(x), model)
            if "mixup" in self.augmentations and len(y) > 1:
                x, mask, mix = self.mixup(x, mask, model)
                if summary is not None:
                    lam, perm = mix
                    summary = lam * summary + (1.0 - lam) * summary[perm]
        smoothing = self.label_smoothing if augment else 0.0
        if augment:  # x is in the model's input units; with a summary head, each head on its own loss
            net, summary_logits, _ = model.forward_parts(x, mask, summary, scaled=True)
            heads = [net] if summary_logits is None else [net, summary_logits]
            pred = net if summary_logits is None else model.mix_heads(net, summary_logits)
        else:  # evaluation: the model's own (mixed) prediction
            pred, _ = model(x, mask)
            heads = [pred]

        def head_loss(out):
            loss = self._loss(model, out, y, smoothing)
            if mix is None:
                return loss
            lam, perm = mix
            return lam * loss + (1.0 - lam) * self._loss(model, out, y[perm], smoothing)

        loss = sum(head_loss(out) for out in heads)
        if model.task == "classify":
            return loss, {"accuracy": (pred.argmax(-1) == y).float().mean()}
        return loss, {"mae": (pred - y).abs().mean()}

    @staticmethod
    def _loss(model, pred, y, smoothing: float):
        """Cross-entropy (classify) or the mean squared error in standardised units (regress, forecast)."""
        if model.task == "classify":
            return F.cross_entropy(pred, y, label_smoothing=smoothing)
        if model.task == "regress":
            scale = model.y_std
        else:  # forecast: the target feature's scale, per node -> [N, 1]
            scale = model.x_std[:, model.target_feature].unsqueeze(-1)
        return (((pred - y) / scale) ** 2).mean()

    def mixup(self, x, mask, model=None):
        """mixup: ``x [B, N, T, F]`` -> ``lam * x + (1 - lam) * x[perm]`` with ``lam ~ Beta(a, a)``,
        ``a = MIXUP_ALPHA``, and ``perm`` a random permutation of the batch. Returns ``(x, mask, (lam, perm))``.

        Series of unequal length (``mask [B, N, T]``, True = valid): each sample's masked steps are first set
        to its node's mean (``model.x_mean``, 0 in standardised units, the model's own value for a step
        without data), and a step is valid in the mix when it is valid in either sample (``mask | mask[perm]``),
        so a short series mixed with a long one keeps the long one's steps. (Intersecting the masks cut every
        mix down to the shorter series: PickupGestureWiimoteZ, 29-361 steps, 0.74 against 0.86 with the
        union, seed 0; JapaneseVowels 0.995 both ways, seed 0.)"""
        lam = float(self._mixup_lam.sample())
        perm = torch.randperm(x.shape[0], device=x.device)
        if mask is not None:
            model = self.model if model is None else model
            fill = model.x_mean[None, :, None, :].to(x.dtype)  # [1, N, 1, F]
            x = torch.where(mask[..., None], x, fill)
            mask = mask | mask[perm]
        return lam * x + (1.0 - lam) * x[perm], mask, (lam, perm)

    def augment(self, x, model):
        """Scale and jitter ``x [B, N, T, F]`` in standardised units (values at masked steps do not matter:
        the model zeroes them), then roll each sample (all its nodes alike) circularly by ``U{-k..k}`` steps,
        ``k = self.shift`` (0 on sets with padding: the recipe never sets it there)."""
        if not self.augmentations:
            return x
        std = model.x_std[None, :, None, :].to(x.dtype)  # [1, N, 1, F]
        out = x
        if "scale" in self.augmentations:
            factor = SCALE_STD * torch.randn(x.shape[0], x.shape[1], 1, 1, dtype=x.dtype, device=x.device)
            out = out + (x - model.x_mean[None, :, None, :].to(x.dtype)) * factor
        if "jitter" in self.augmentations:
            out = out + JITTER_STD * std * torch.randn_like(x)
        if self.shift > 0:
            batch, nodes, steps, features = x.shape
            shifts = torch.randint(-self.shift, self.shift + 1, (batch,), device=x.device)
            source = (torch.arange(steps, device=x.device)[None, :] - shifts[:, None]) % steps  # [B, T]
            # out[b, :, t] = x[b, :, t - shift_b] (circular): [B, T] -> [B, N, T, F]
            out = out.gather(2, source[:, None, :, None].expand(batch, nodes, steps, features))
        return out

    # ---- Lightning hooks -----------------------------------------------------------------------------------

    def training_step(self, batch, batch_idx):
        # Each member on its own loss; the sum's gradient is each member's own (no shared parameters).
        loss = sum(self.loss(batch, member, augment=True)[0] for member in self.members) / len(self.members)
        if not torch.isfinite(loss):
            # Stop at once: every later step would train on NaN weights and average them into the EMA.
            raise TrainingDiverged(f"training diverged: the loss is {loss.item()} at epoch {self.current_epoch}, "
                                   f"batch {batch_idx}; no model was saved; try a lower --lr (now {self.lr:g})")
        # Summed here and logged once an epoch (on_train_epoch_end): a self.log call per step cost more than a
        # small batch's arithmetic.
        size = len(batch["y"])
        self._epoch_loss = self._epoch_loss + loss.detach() * size if self._epoch_loss is not None else loss.detach() * size
        self._epoch_samples += size
        return loss

    def on_train_epoch_start(self):
        self._epoch_loss, self._epoch_samples = None, 0

    def on_train_epoch_end(self):
        if self._epoch_samples:
            mean = self._epoch_loss / self._epoch_samples
            self.log("train_loss", mean, on_step=False, on_epoch=True, sync_dist=True)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        """Our batches are flat dicts of tensors: moved with one comprehension (Lightning's generic walk over
        any collection cost ~1 ms a step), and not at all when they are already there (CPU)."""
        if isinstance(batch, dict) and all(isinstance(v, torch.Tensor) for v in batch.values()):
            if all(v.device == device for v in batch.values()):
                return batch
            return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def on_before_optimizer_step(self, optimizer):
        if self.grad_clip > 0:
            for member in self.members:  # per member: one member's large gradient must not shrink the others'
                torch.nn.utils.clip_grad_norm_(member.parameters(), self.grad_clip)

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.update_ema()

    @torch.no_grad()
    def update_ema(self) -> None:
        """One EMA update: ``avg = d * avg + (1 - d) * weights`` for parameters and floating buffers (the
        normalisation's running statistics too), ``d = ema_decay(updates, ema)``; the first update copies.

        One fused ``_foreach_lerp_`` over every floating tensor: a per-tensor loop over two ``state_dict()``s
        cost ~3 ms a step at batch 16 (cProfile of a 875-step epoch of the default model, measured here)."""
        if self.ema_model is None:
            return
        n = int(self.ema_updates)
        decay = 0.0 if n == 0 else ema_decay(n, self.ema_decay)
        pairs = self._ema_pairs()
        if pairs[0]:
            torch._foreach_lerp_(pairs[0], pairs[1], 1.0 - decay)
        for target, value in zip(pairs[2], pairs[3]):
            target.copy_(value)
        self.ema_updates += 1

    def _ema_pairs(self) -> tuple[list, list, list, list]:
        """(EMA floating tensors, model floating tensors, EMA other buffers, model other buffers), in state_dict
        order; built once per (model, device) and reused (the tensors are updated in place)."""
        key = (id(self.model), id(self.ema_model), self.device)
        cached = getattr(self, "_ema_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        averaged = self.ema_model.state_dict(keep_vars=True)
        floats_avg, floats_new, other_avg, other_new = [], [], [], []
        for name, value in self.model.state_dict(keep_vars=True).items():
            target, value = averaged[name].data, value.data
            if target.is_floating_point() and target.dtype == value.dtype:
                floats_avg.append(target)
                floats_new.append(value)
            else:
                other_avg.append(target)
                other_new.append(value)
        pairs = (floats_avg, floats_new, other_avg, other_new)
        object.__setattr__(self, "_ema_cache", (key, pairs))
        return pairs

    def validation_step(self, batch, batch_idx):
        loss, extra = self.loss(batch)
        size = len(batch["y"])
        self.log("val_loss", loss, prog_bar=True, batch_size=size, sync_dist=True)
        for name, value in extra.items():
            self.log(f"val_{name}", value, prog_bar=True, batch_size=size, sync_dist=True)

    def configure_optimizers(self):
        # foreach: one fused update over all parameters; torch picks the per-tensor loop on CPU otherwise
        # (1.8 against 1.2 ms a step for the default model, measured here).
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        total = self.total_steps
        if total is None:
            total = int(self.trainer.estimated_stepping_batches)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total, self.warmup))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


__all__ = ["JITTER_STD", "SCALE_STD", "PoolingModule"]
