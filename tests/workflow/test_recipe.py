"""The issue-9 recipe end to end on tiny data: a shipped split trains whole, the saved model is the EMA at the
last step, the checkpoint holds the EMA for --resume, and an ensemble run evaluates, predicts and explains."""

import json

import numpy as np
import pytest
import torch

from attnpool.data import from_arrays
from attnpool.errors import ConfigError
from attnpool.models import SpatioTemporalEnsemble
from attnpool.train.recipe import plan_for, shift_for
from attnpool.workflow import TrainConfig, evaluate_run, explain_run, fit, load_run, predict_run
from attnpool.workflow.fitting import model_kwargs_for, resolved_config


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2, 16, 1)).astype(np.float32)
    y = (x[:, 0, 4:8, 0].mean(1) > 0).astype(np.int64)
    split = np.array(["train"] * 40 + ["test"] * 20)
    path = tmp_path_factory.mktemp("data") / "shipped.npz"
    np.savez(path, x=x, y=y, split=split)
    return str(path)


def _cfg(data, **kw):
    kw.setdefault("ensemble", 1)  # one net, whose weights the tests read (the auto rule: its own tests below)
    return TrainConfig(data=data, steps=6, batch_size=16, progress=False, **kw)


def test_shipped_split_trains_whole_and_saves_the_ema_of_the_last_step(npz, tmp_path):
    result = fit(_cfg(npz), tmp_path / "run", quiet=True)
    assert result.metrics["val"] == {"n": 0} and result.metrics["test"]["n"] == 20
    assert (result.metrics["epochs"], result.metrics["steps"]) == (3, 6)  # 40 // 16 = 2 batches, ceil(6 / 2)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    state = ckpt["state_dict"]
    assert int(state["ema_updates"]) == 6
    model, cfg, _ = load_run(tmp_path / "run")
    assert cfg.split is None and model.steps == 16 and type(model.encoder).__name__ == "ResConvEncoder"
    for name, value in model.state_dict().items():  # model.pt holds the EMA weights, not the last raw ones
        torch.testing.assert_close(value, state[f"ema_model.{name}"])
    raw = [k for k in state if k.startswith("model.") and state[k].is_floating_point() and state[k].numel() > 1]
    assert any(not torch.equal(state[k], state["ema_" + k]) for k in raw)


def test_resume_continues_the_ema_from_the_checkpoint(npz, tmp_path):
    fit(_cfg(npz), tmp_path / "run", quiet=True)
    (tmp_path / "run" / "metrics.json").unlink()  # as if killed before the end: the run is not complete
    (tmp_path / "run" / "INCOMPLETE").write_text("interrupted\n")
    again = fit(_cfg(npz), tmp_path / "run", quiet=True, resume=True)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert int(ckpt["state_dict"]["ema_updates"]) == 6  # continued from step 6 of 6, not started over
    assert again.metrics["test"]["n"] == 20


def test_ensemble_run_evaluates_predicts_and_explains(npz, tmp_path):
    result = fit(_cfg(npz, ensemble=2, seed=3), tmp_path / "run", quiet=True)
    model, _, _ = load_run(tmp_path / "run")
    assert isinstance(model, SpatioTemporalEnsemble) and len(model.members) == 2
    assert not torch.equal(model.members[0].head.net[1].weight, model.members[1].head.net[1].weight)
    assert evaluate_run(tmp_path / "run")["test"] == result.metrics["test"]
    out = predict_run(tmp_path / "run", npz, tmp_path / "pred.csv")
    rows = out.read_text().splitlines()
    assert len(rows) == 61 and rows[0].startswith("sample,predicted,p_0,p_1")
    probs = np.array([[float(v) for v in r.split(",")[2:4]] for r in rows[1:]])
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    explain_run(tmp_path / "run", None, tmp_path / "explain")
    assert any((tmp_path / "explain").iterdir())


def _set(n_train, nodes, steps, *, padded=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + 10, nodes, steps, 1)).astype(np.float32)
    if padded:
        x[1, :, steps // 2:] = np.nan  # one shorter series: the set has padding
    y = np.arange(n_train + 10) % 2
    return from_arrays(x, y, parts=np.array(["train"] * n_train + ["test"] * 10))


@pytest.mark.parametrize(("n_train", "nodes", "steps", "padded", "stride", "epochs", "members", "shift"), [
    (50, 1, 150, False, 1, 100, 3, 15),     # GunPoint's sizes
    (36, 1, 251, False, 2, 150, 3, 25),     # ArrowHead's
    (200, 1, 427, False, 2, 100, 1, 42),    # OSULeaf's
    (67, 1, 24, False, 1, 100, 3, 0),       # ItalyPowerDemand's: too short to shift
    (40, 6, 100, False, 1, 150, 1, 0),      # BasicMotions'
    (270, 12, 29, True, 1, 84, 1, 0),       # JapaneseVowels': padded, and the work cap sets the epochs
])
def test_the_rules_on_the_six_sets_sizes(n_train, nodes, steps, padded, stride, epochs, members, shift):
    ds = _set(n_train, nodes, steps, padded=padded)
    cfg = TrainConfig(data=ds).validate()
    kwargs = model_kwargs_for(cfg, ds)
    schedule, k = plan_for(cfg, n_train, kwargs)
    assert (kwargs["stride"], schedule.epochs, kwargs["members"], k) == (stride, epochs, members, members)
    assert shift_for(cfg, ds.task, ds.subset(ds.splits["train"])) == shift


def test_user_options_override_the_rules():
    ds = _set(36, 1, 251)
    cfg = TrainConfig(data=ds, stride=1, ensemble=2, steps=40).validate()
    kwargs = model_kwargs_for(cfg, ds)
    schedule, _ = plan_for(cfg, 36, kwargs)
    assert (kwargs["stride"], kwargs["members"], schedule.epochs) == (1, 2, 20)
    tcn = model_kwargs_for(TrainConfig(data=ds, encoder="tcn", ensemble=1).validate(), ds)
    assert tcn["stride"] is None  # an encoder without a stem stride is not offered one
    padded = _set(30, 1, 200, padded=True)
    with pytest.raises(ConfigError, match="augment 'shift' needs series without padding"):
        shift_for(TrainConfig(data=padded, augment="scale,shift"), "classify", padded.subset(padded.splits["train"]))
    assert shift_for(TrainConfig(data=padded, augment="auto"), "classify", padded.subset(padded.splits["train"])) == 0


def test_a_strided_auto_ensemble_run_is_saved_resolved_and_reloads(tmp_path, monkeypatch):
    from attnpool.workflow import augment_probe

    # the probe's own tests are in test_augment_probe.py; here it keeps the full list
    monkeypatch.setattr(augment_probe, "probe_augment", lambda *a, **k: augment_probe.ProbeResult(
        accuracy={"auto": 0.5, "scale,jitter": 0.5}, steps=2))
    ds = _set(36, 1, 251)
    result = fit(TrainConfig(data=ds, steps=4, channels=8, progress=False), tmp_path / "run", quiet=True)
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    assert resolved["model"]["stride"] == 2 and resolved["model"]["members"] == 3  # a 4-step member is cheap
    assert resolved["schedule"]["shift"] == 25 and resolved["schedule"]["steps"] == 4
    assert resolved["schedule"]["augment"] == ["scale", "jitter", "shift", "mixup"]
    assert resolved["schedule"]["mixup_alpha"] == 0.4
    model, _, _ = load_run(tmp_path / "run")
    assert isinstance(model, SpatioTemporalEnsemble) and model.stride == 2
    assert all(m.encoder.stride == 2 and m.encoder.depth == 6 for m in model.members)
    assert evaluate_run(tmp_path / "run")["test"] == result.metrics["test"]


@pytest.mark.parametrize(("steps", "augment", "shift", "applied", "alpha"), [
    (24, "auto", 0, ["scale", "jitter", "mixup"], 0.4),          # too short to shift: not listed
    (200, "auto", 20, ["scale", "jitter", "shift", "mixup"], 0.4),
    (200, "scale,jitter", 0, ["scale", "jitter"], None),
    (200, "none", 0, [], None),
])
def test_config_json_lists_the_augmentations_applied(steps, augment, shift, applied, alpha):
    ds = _set(40, 1, steps)
    cfg = TrainConfig(data=ds, augment=augment).validate()
    kwargs = model_kwargs_for(cfg, ds)
    schedule, _ = plan_for(cfg, 40, kwargs)
    assert shift_for(cfg, ds.task, ds.subset(ds.splits["train"])) == shift
    resolved = resolved_config(cfg, kwargs, ds, schedule=schedule, shift=shift)["resolved"]["schedule"]
    assert (resolved["augment"], resolved["mixup_alpha"]) == (applied, alpha)
