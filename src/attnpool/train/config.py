"""The training configuration: every option of ``attnpool train``, saved resolved in ``RUN/config.json``."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, MissingFileError
from ..tasks import TASKS


@dataclass
class TrainConfig:
    """Everything a run needs; ``RUN/config.json`` holds it fully resolved and ``--config`` reads it back."""

    data: str = "synthetic:peaks"  # or a TimeSeriesSet in memory (attnpool.data.from_arrays)
    task: str | None = None  # inferred from the data when None
    # data options
    window: int = 30  # CSV: steps per window
    horizon: int = 1  # CSV: steps to forecast
    season: int | None = None  # forecast: season in steps of the seasonal-naive baseline; None: from the time column
    nodes: str | None = None  # UEA: channel grouping ("2" or "0,1,2|3,4,5")
    # None: (0.7, 0.15, 0.15) for sources without a split; a source that ships train/test (UEA) trains on its
    # whole train part (no validation part carved out of it: see docs/training.md)
    split: tuple[float, float, float] | None = None
    data_options: dict = field(default_factory=dict)  # passed to load_data (e.g. {"samples": 600})
    # model
    pool: str = "attention-mean"  # attention mixed with the mean by a learned gate (pooling/mixed.py: why)
    encoder: str = "resconv"
    mixer: str = "none"
    channels: int = 32
    stride: int | None = None  # resconv's stem stride; None: the rule (attnpool.models.resconv.stride_for_length)
    dropout: float = 0.1
    # classify: a second head on the order-free distribution summary of each series (models/distribution.py),
    # K thresholds per dilation and feature, 0 = none; auto: 33 at the share of the prediction the probe sets
    # (workflow/augment_probe.choose_summary_weight), none where that share is 0 (issue 9, R6)
    distribution: int | str = "auto"
    pool_kwargs: dict = field(default_factory=dict)
    # optimisation (the recipe and its reasons: docs/training.md; the schedule rule: attnpool.train.schedule)
    steps: int | None = None  # optimizer steps; None: the rule (>= 300 steps, >= 100 epochs, work-capped: train/schedule.py)
    epochs: int | None = None  # the option before issue 9: exactly this many epochs instead of `steps`
    batch_size: int | None = None  # None: the rule of attnpool.train.batching (16 for small sets)
    limit_batches: int | None = None  # at most this many batches per epoch, in validation and final evaluation
    lr: float = 3e-3  # AdamW's peak learning rate
    weight_decay: float = 0.05
    warmup: float = 0.05  # fraction of the steps with a linear warm-up, then a cosine to 0
    label_smoothing: float = 0.1  # classify
    grad_clip: float = 1.0  # maximum gradient norm (per ensemble member); 0 = off
    ema: float = 0.99  # decay of the weights' moving average, which is the saved model; 0 = the last weights
    # auto (classify: scale,jitter,mixup + shift by the rule, both checked on the data by the probe of
    # workflow/augment_probe.py; regress/forecast: none) | none | a list (no probe)
    augment: str = "auto"
    ensemble: int | str = "auto"  # K models (seeds seed .. seed + K - 1) averaged; auto: K from the work budget
    patience: int | None = None  # ignored since issue 9 (no early stopping); kept so older configs load
    seed: int = 0
    # engine
    threads: int = 1  # small batches gain little from more, and 2 threads fight any other busy process
    accelerator: str = "auto"  # a GPU when there is one
    devices: str = "1"
    num_nodes: int = 1  # machines of a multi-node run (Lightning's num_nodes; see docs/training.md)
    strategy: str = "auto"
    progress: bool = True

    def validate(self) -> TrainConfig:
        """Check every option: its type (``bool`` is not an int, ``2.5`` is not an int), its range, names from the
        known lists (pools, encoders, mixers, tasks), and options that contradict each other (heads that do not
        divide the channels, pool options the pooling does not take). Returns ``self`` unchanged.

        :func:`attnpool.workflow.fit` calls it, so Python and the command line get the same errors.

        Raises:
            ConfigError: naming the option (``err.key``), what was expected and what came.
        """
        from ..models import ENCODERS, MIXERS
        from ..models.registry import registry_key
        from ..pooling import POOLS

        # A TimeSeriesSet is recognised by its fields: train and data are sibling layers that do not import each other.
        is_set = all(hasattr(self.data, name) for name in ("x", "y", "mask", "splits", "task"))
        if not (is_set or (isinstance(self.data, str) and self.data)):
            shape = getattr(self.data, "shape", None)  # never print a whole array
            got = f"{type(self.data).__name__} of shape {tuple(shape)}" if shape is not None else repr(self.data)
            raise ConfigError("data must be a source (a .npz/.csv path, 'uea:<Name>', 'synthetic:peaks') or a "
                              f"TimeSeriesSet (attnpool.data.from_arrays(x, y)), got {got}", key="data")
        if self.task is not None:
            _check_name("task", self.task, TASKS)
        for key in ("window", "horizon", "channels", "threads", "num_nodes"):
            _check_int(key, getattr(self, key), low=1)
        if self.ensemble != "auto":
            _check_int("ensemble", self.ensemble, low=1, what="an int or 'auto'")
        if self.distribution != "auto":
            _check_int("distribution", self.distribution, low=0, what="an int (thresholds; 0 = off) or 'auto'")
        for key in ("steps", "epochs", "stride", "batch_size", "limit_batches"):
            if getattr(self, key) is not None:
                _check_int(key, getattr(self, key), low=1, what="an int or None")
        if self.steps is not None and self.epochs is not None:
            raise ConfigError(f"give steps or epochs, not both: got steps={self.steps}, epochs={self.epochs} "
                              f"(steps fixes the optimizer steps, epochs the passes over the data)", key="steps")
        if self.patience is not None:
            _check_int("patience", self.patience, low=0, what="an int or None")
        if self.season is not None:
            _check_int("season", self.season, low=0, what="an int (steps; 0 = no seasonal baseline) or None")
        _check_int("seed", self.seed, low=0)
        if self.nodes is not None and not isinstance(self.nodes, str):
            _check_int("nodes", self.nodes, low=1, what="an int, a string like '0,1,2|3,4,5', or None")
        split = self.split
        if split is not None:
            if not isinstance(split, (tuple, list)) or len(split) != 3:
                raise ConfigError(f"split must be 3 fractions (train, val, test) or None, got {split!r}", key="split")
            for part, value in zip(("train", "val", "test"), split):
                _check_number(f"split ({part})", value, low=0.0, key="split")
        for key in ("data_options", "pool_kwargs"):
            value = getattr(self, key)
            if not isinstance(value, dict):
                raise ConfigError(f"{key} must be a dict, got {value!r} ({type(value).__name__})", key=key)
        _check_number("dropout", self.dropout, low=0.0, below=1.0)
        _check_number("lr", self.lr, low=0.0, inclusive=False)
        _check_number("weight_decay", self.weight_decay, low=0.0)
        _check_number("warmup", self.warmup, low=0.0, below=1.0)
        _check_number("label_smoothing", self.label_smoothing, low=0.0, below=1.0)
        _check_number("grad_clip", self.grad_clip, low=0.0)
        _check_number("ema", self.ema, low=0.0, below=1.0)
        from .schedule import resolve_augment

        if not isinstance(self.augment, str):
            raise ConfigError(f"augment must be a string, got {self.augment!r} ({_kind(self.augment)})", key="augment")
        try:
            resolve_augment(self.augment, "classify")
        except ValueError as err:
            raise ConfigError(str(err), key="augment") from None
        for key in ("accelerator", "strategy"):
            _check_text(key, getattr(self, key))
        if isinstance(self.devices, bool) or not isinstance(self.devices, (str, int)):
            raise ConfigError(f"devices must be a string or an int, got {self.devices!r} "
                              f"({type(self.devices).__name__})", key="devices")
        if not re.fullmatch(r"auto|-1|\d+|\d+(,\d+)*,?", str(self.devices).strip()):
            raise ConfigError(f"devices must be a count (1), -1, 'auto' or device ids ('0,1'), got {self.devices!r}",
                              key="devices")
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be True or False, got {self.progress!r}", key="progress")
        # Names as make_pool reads them: "multi-head" is "multihead".
        _check_name("pool", self.pool, POOLS, registry_key(self.pool))
        _check_name("encoder", self.encoder, ENCODERS, registry_key(self.encoder))
        _check_name("mixer", self.mixer, MIXERS, registry_key(self.mixer))
        self._check_modules()
        return self

    def _check_modules(self) -> None:
        """Options that contradict each other only show when the modules are built: build them, on the meta
        device (no memory, no random numbers drawn), and report the constructor's complaint under the option."""
        import torch

        from ..models import make_encoder, make_mixer
        from ..pooling import make_pool

        with torch.device("meta"):
            try:
                make_pool(self.pool, self.channels, **self.pool_kwargs)
            except (TypeError, ValueError) as err:
                raise ConfigError(f"pool {self.pool!r} with channels={self.channels} and pool_kwargs="
                                  f"{self.pool_kwargs}: {err}", key="pool_kwargs") from None
            for key, build in (("encoder", lambda: make_encoder(self.encoder, 1, self.channels, dropout=self.dropout,
                                                                stride=self.stride)),
                               ("mixer", lambda: make_mixer(self.mixer, self.channels, 2, dropout=self.dropout))):
                try:
                    build()
                except (TypeError, ValueError) as err:
                    raise ConfigError(f"{key} {getattr(self, key)!r} with channels={self.channels}: {err}",
                                      key=key) from None

    def to_dict(self) -> dict:
        # A set in memory is named by its source (fit writes it into the run and names that file instead).
        plain = self if isinstance(self.data, str) else dataclasses.replace(self, data=str(getattr(self.data, "source", "arrays")))
        data = dataclasses.asdict(plain)
        data["split"] = None if self.split is None else list(self.split)
        return data

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        # "resolved" is what train wrote about the data; "per_node" (regress) is now read off the data's y.
        unknown = sorted(set(data) - known - {"resolved", "per_node"})
        if unknown:
            raise ConfigError(f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                              key=unknown[0])
        values = {k: v for k, v in data.items() if k in known}
        if isinstance(values.get("split"), list):  # JSON has no tuples; anything else is left to validate()
            values["split"] = tuple(values["split"])
        return cls(**values)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"config file {path} does not exist")
        text = path.read_text()
        try:
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as err:  # noqa: BLE001 - any parse error becomes one line
            raise ConfigError(f"config file {path} could not be parsed: {str(err).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping of options, got {type(data).__name__}")
        return cls.from_dict(data, source=f"config file {path}")


# ---- checks ---------------------------------------------------------------------------------------------


def _kind(value) -> str:
    return type(value).__name__


def _check_int(key: str, value, low: int, what: str = "an int") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be {what}, got {value!r} ({_kind(value)})", key=key)
    if value < low:
        raise ConfigError(f"{key} must be >= {low}, got {value}", key=key)


def _check_number(name: str, value, low: float, *, below: float | None = None, inclusive: bool = True,
                  key: str | None = None) -> None:
    key = key or name
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {value!r} ({_kind(value)})", key=key)
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number, got {value}", key=key)
    if (value < low if inclusive else value <= low) or (below is not None and value >= below):
        bound = f"{'>=' if inclusive else '>'} {low:g}" + (f" and < {below:g}" if below is not None else "")
        raise ConfigError(f"{name} must be {bound}, got {value}", key=key)


def _check_text(key: str, value) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string, got {value!r} ({_kind(value)})", key=key)


def _check_name(key: str, value, known, lookup=None) -> None:
    if not isinstance(value, str) or (lookup if lookup is not None else value) not in known:
        raise ConfigError(f"{key} must be one of {', '.join(known)}, got {value!r}", key=key)
