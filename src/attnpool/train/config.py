"""The training configuration: every option of ``attnpool train``, saved resolved in ``RUN/config.json``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    """Everything a run needs; ``RUN/config.json`` holds it fully resolved and ``--config`` reads it back."""

    data: str = "synthetic:peaks"
    task: str | None = None  # inferred from the data when None
    # data options
    window: int = 30  # CSV: steps per window
    horizon: int = 1  # CSV: steps to forecast
    nodes: str | None = None  # UEA: channel grouping ("2" or "0,1,2|3,4,5")
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    data_options: dict = field(default_factory=dict)  # passed to load_data (e.g. {"samples": 600})
    # model
    pool: str = "attention"
    encoder: str = "tcn"
    mixer: str = "none"
    channels: int = 32
    dropout: float = 0.1
    pool_kwargs: dict = field(default_factory=dict)
    # optimisation
    epochs: int = 100
    batch_size: int = 16  # small sets (BasicMotions: 33 training samples) need enough steps per epoch
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 30
    seed: int = 0
    # engine
    threads: int = 1  # small batches gain little from more, and 2 threads fight any other busy process
    accelerator: str = "cpu"
    devices: str = "1"
    strategy: str = "auto"
    progress: bool = True

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["split"] = list(self.split)
        return data

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        # "resolved" is what train wrote about the data; "per_node" (regress) is now read off the data's y.
        unknown = sorted(set(data) - known - {"resolved", "per_node"})
        if unknown:
            raise ValueError(f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = {k: v for k, v in data.items() if k in known}
        if "split" in values:
            values["split"] = tuple(values["split"])
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        text = path.read_text()
        try:
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as err:  # noqa: BLE001 - any parse error becomes one line
            raise ValueError(f"config file {path} could not be parsed: {str(err).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ValueError(f"config file {path} must hold a mapping of options, got {type(data).__name__}")
        return cls.from_dict(data, source=f"config file {path}")
