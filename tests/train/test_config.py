"""TrainConfig.validate: the one place options are checked; types, ranges, known names, contradictions."""

import pytest

from attnpool.errors import AttnpoolError, ConfigError
from attnpool.train import TrainConfig


def test_defaults_and_alternative_pool_spellings_are_valid():
    cfg = TrainConfig()
    assert cfg.validate() is cfg
    TrainConfig(pool="multi-head", pool_kwargs={"heads": 4}, encoder="GRU", mixer="attention").validate()


@pytest.mark.parametrize(
    "options, key, message",
    [
        ({"epochs": True}, "epochs", "epochs must be an int or None, got True (bool)"),
        ({"epochs": 2.5}, "epochs", "epochs must be an int or None, got 2.5 (float)"),
        ({"epochs": 0}, "epochs", "epochs must be >= 1, got 0"),
        ({"steps": 0}, "steps", "steps must be >= 1, got 0"),
        ({"steps": 10, "epochs": 2}, "steps", "give steps or epochs, not both: got steps=10, epochs=2 (steps fixes "
                                               "the optimizer steps, epochs the passes over the data)"),
        ({"ensemble": 0}, "ensemble", "ensemble must be >= 1, got 0"),
        ({"ema": 1.0}, "ema", "ema must be >= 0 and < 1, got 1.0"),
        ({"label_smoothing": -0.1}, "label_smoothing", "label_smoothing must be >= 0 and < 1, got -0.1"),
        ({"augment": "cutout"}, "augment", "augment must be 'auto', 'none' or a comma-separated list of scale, "
                                          "jitter, shift, mixup, got 'cutout'"),
        ({"ensemble": "three"}, "ensemble", "ensemble must be an int or 'auto', got 'three' (str)"),
        ({"stride": 0}, "stride", "stride must be >= 1, got 0"),
        ({"batch_size": -1}, "batch_size", "batch_size must be >= 1, got -1"),
        ({"patience": -1}, "patience", "patience must be >= 0, got -1"),
        ({"patience": 2.5}, "patience", "patience must be an int or None, got 2.5 (float)"),
        ({"lr": 0.0}, "lr", "lr must be > 0, got 0.0"),
        ({"lr": "fast"}, "lr", "lr must be a number, got 'fast' (str)"),
        ({"dropout": 1.0}, "dropout", "dropout must be >= 0 and < 1, got 1.0"),
        ({"pool": "median"}, "pool", "pool must be one of attention, mean, max, last, gated, multihead, attentionmean, "
                                       "got 'median'"),
        ({"encoder": "lstm"}, "encoder", "encoder must be one of resconv, linear, tcn, gru, got 'lstm'"),
        ({"mixer": "gnn"}, "mixer", "mixer must be one of none, graph, attention, got 'gnn'"),
        ({"task": "cluster"}, "task", "task must be one of classify, regress, forecast, got 'cluster'"),
        ({"split": (0.5, 0.5)}, "split", "split must be 3 fractions (train, val, test) or None, got (0.5, 0.5)"),
        ({"progress": 1}, "progress", "progress must be True or False, got 1"),
        ({"data_options": []}, "data_options", "data_options must be a dict, got [] (list)"),
        ({"nodes": 1.5}, "nodes", "nodes must be an int, a string like '0,1,2|3,4,5', or None, got 1.5 (float)"),
    ],
)
def test_bad_option_names_the_key_the_expected_and_the_actual_value(options, key, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**options).validate()
    assert str(info.value) == message
    assert info.value.key == key
    assert isinstance(info.value, AttnpoolError) and isinstance(info.value, ValueError)


def test_contradicting_options_are_refused_not_changed():
    with pytest.raises(ConfigError, match=r"mixer 'attention' with channels=30: heads must .* divides channels=30"):
        TrainConfig(mixer="attention", channels=30).validate()
    with pytest.raises(ConfigError, match=r"pool 'multihead' with channels=30 .*divisible by heads") as info:
        TrainConfig(pool="multihead", channels=30, pool_kwargs={"heads": 4}).validate()
    assert info.value.key == "pool_kwargs"
    with pytest.raises(ConfigError, match=r"pool 'mean' .*pool_kwargs=\{'heads': 2\}"):
        TrainConfig(pool="mean", pool_kwargs={"heads": 2}).validate()


def test_validate_draws_no_random_numbers():
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    TrainConfig(encoder="gru", mixer="graph").validate()
    assert torch.equal(torch.rand(3), expected)


def test_unknown_config_file_keys_and_missing_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"epochs": 3, "epoch": 4}')
    with pytest.raises(ConfigError, match="unknown option.*epoch"):
        TrainConfig.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TrainConfig.load(tmp_path / "none.json")


def test_fit_validates_before_reading_data_and_leaves_the_config_alone(tmp_path):
    from attnpool.workflow import fit

    cfg = TrainConfig(data=str(tmp_path / "missing.npz"), epochs=0)
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        fit(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists() and cfg.epochs == 0 and cfg.task is None


def test_stride_on_an_encoder_without_one_is_refused():
    TrainConfig(stride=2).validate()  # resconv takes it
    with pytest.raises(ConfigError, match="encoder 'tcn' .*no option stride") as info:
        TrainConfig(encoder="tcn", stride=2).validate()
    assert info.value.key == "encoder"
