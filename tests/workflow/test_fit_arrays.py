import json

import numpy as np
import pytest

from attnpool.data import from_arrays
from attnpool.errors import ConfigError
from attnpool.predictor import load_run
from attnpool.workflow import TrainConfig, evaluate_run, fit


def test_fit_on_a_set_in_memory_writes_an_ordinary_run(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3, 10, 2))
    x[0, 1, 4:] = np.nan  # a missing stretch: masked
    y = rng.normal(50.0, 5.0, size=40)
    ds = from_arrays(x, y, node_names=["a", "b", "c"], split=(0.6, 0.2, 0.2))
    result = fit(TrainConfig(data=ds, encoder="linear", channels=4, epochs=1, progress=False), tmp_path / "run",
                 quiet=True)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == str((tmp_path / "run" / "data.npz").resolve()) and config["task"] == "regress"
    # evaluate without data finds the arrays (and their split) in the run, as it finds a file.
    assert evaluate_run(tmp_path / "run") == {k: result.metrics[k] for k in ("val", "test")}
    p = load_run(tmp_path / "run")
    assert p.node_names == ["a", "b", "c"] and p.predict(np.nan_to_num(x[:2])).y.shape == (2, 1)


def test_an_array_as_data_is_named_by_its_shape():
    with pytest.raises(ConfigError, match=r"data must be a source .* or a TimeSeriesSet .*got ndarray of shape "
                                          r"\(50, 7, 30, 1\)$"):
        TrainConfig(data=np.zeros((50, 7, 30, 1))).validate()
