"""The augmentation probe of augment="auto" (workflow/augment_probe.py): when it runs, how it folds the train
part, its rule, what it measures, and how its outcome reaches the run (config.json, the module, resume)."""

import dataclasses
import json

import numpy as np
import pytest

from attnpool.data import from_arrays
from attnpool.workflow import TrainConfig, augment_probe, fit
from attnpool.workflow.augment_probe import (
    LIGHT_AUGMENT,
    MAX_SUMMARY_WEIGHT,
    PROBE_FOLDS,
    PROBE_MARGIN,
    SUMMARY_TOLERANCE,
    SUMMARY_WEIGHTS,
    ProbeResult,
    calibrate,
    choose_augment,
    choose_summary_weight,
    fold_ids,
    needs_probe,
    probe_augment,
    probes_augment,
    probes_summary,
)
from attnpool.workflow.fitting import model_kwargs_for


def _set(n_train, steps, *, padded=False, separable=False, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_train + 10) % 2
    x = rng.normal(size=(n_train + 10, 1, steps, 1)).astype(np.float32)
    if separable:  # the class is the series' level: any model, shifted or not, gets it right
        x += np.where(y == 1, 3.0, -3.0)[:, None, None, None].astype(np.float32)
    if padded:
        x[1, :, steps // 2:] = np.nan
    return from_arrays(x, y, parts=np.array(["train"] * n_train + ["test"] * 10))


def _train(ds):
    return ds.subset(ds.splits["train"])


def test_fold_ids_deal_each_class_evenly_and_follow_the_seed():
    y = np.array([0] * 7 + [1] * 4 + [2] * 10)
    folds = fold_ids(y, 2, seed=5)
    assert set(folds.tolist()) == {0, 1}
    for c in (0, 1, 2):
        counts = np.bincount(folds[y == c], minlength=2)
        assert abs(int(counts[0]) - int(counts[1])) <= 1, (c, counts)
    assert np.array_equal(folds, fold_ids(y, 2, seed=5))
    assert not all(np.array_equal(folds, fold_ids(y, 2, seed=s)) for s in range(6, 12))


def test_the_probe_runs_where_it_has_something_to_decide():
    long, short, padded = _set(20, 200), _set(20, 24), _set(20, 200, padded=True)
    auto = TrainConfig(data=long)
    assert probes_augment(auto, _train(long), shift=20) and probes_summary(auto, _train(long))
    assert needs_probe(auto, _train(long), shift=20)
    # too short to shift, or padded: the summary's head is still to decide
    assert not probes_augment(auto, _train(short), shift=0) and needs_probe(auto, _train(short), shift=0)
    assert needs_probe(TrainConfig(data=padded), _train(padded), shift=0)
    # nothing left to decide: no probe
    off = dict(distribution=0)
    assert not needs_probe(TrainConfig(data=short, **off), _train(short), shift=0)
    assert not needs_probe(TrainConfig(data=long, augment="scale,jitter,shift,mixup", **off), _train(long), shift=20)
    assert not needs_probe(TrainConfig(data=long, augment="scale,jitter", distribution=33), _train(long), shift=20)
    named = TrainConfig(data=long, augment="scale,jitter,shift,mixup")  # the summary alone
    assert not probes_augment(named, _train(long), shift=20) and needs_probe(named, _train(long), shift=20)
    assert not needs_probe(TrainConfig(data=long, devices="2"), _train(long), shift=20)  # one process only
    assert not needs_probe(TrainConfig(data=long, strategy="ddp"), _train(long), shift=20)
    tiny = _set(2 * PROBE_FOLDS - 1, 200)
    assert not needs_probe(TrainConfig(data=tiny), _train(tiny), shift=20)
    regress = from_arrays(np.zeros((20, 1, 30, 1), np.float32), np.zeros((20, 1), np.float32))
    assert not needs_probe(TrainConfig(data=regress), regress, shift=0)


def _log_loss(probs, labels):
    probs = np.asarray(probs, dtype=np.float64)
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], np.finfo(np.float64).tiny))))


def _heads(rng, n, classes, right_network, right_summary, sure=0.9):
    """Held-out probabilities of two heads: each is sure of the label where its ``right_*`` mask says, and of a
    random wrong class elsewhere."""
    import torch

    labels = rng.integers(classes, size=n)
    out = []
    for right in (right_network, right_summary):
        wrong = (labels + rng.integers(1, classes, size=n)) % classes
        picked = np.where(right, labels, wrong)
        probs = np.full((n, classes), (1 - sure) / (classes - 1))
        probs[np.arange(n), picked] = sure
        out.append(torch.as_tensor(probs))
    return out[0], out[1], torch.as_tensor(labels)


def test_calibration_keeps_the_ranking_and_never_raises_the_log_loss():
    import torch

    rng = np.random.default_rng(0)
    network, _, labels = _heads(rng, 60, 3, rng.random(60) < 0.7, rng.random(60) < 0.5, sure=0.99)
    calibrated = calibrate(network, labels)
    assert torch.equal(calibrated.argmax(-1), network.argmax(-1))
    torch.testing.assert_close(calibrated.sum(-1), torch.ones(60, dtype=torch.float64))
    # 70% right at 0.99 is over-confident: the calibrated loss is the least over the temperature grid, which
    # includes t = 1 (the raw probabilities) and is checked here against a direct computation at three of its points
    losses = [_log_loss(torch.softmax(torch.log(network) / t, -1), labels.numpy()) for t in (np.exp(0.5), 1.0, 4.0)]
    assert _log_loss(calibrated, labels.numpy()) <= min(losses) + 1e-12 < losses[1]


def test_the_summary_head_gets_the_share_with_the_least_calibrated_log_loss():
    import torch

    assert SUMMARY_WEIGHTS[0] == 0.0 and SUMMARY_WEIGHTS[-1] == MAX_SUMMARY_WEIGHT == 0.75 and len(SUMMARY_WEIGHTS) == 16
    rng = np.random.default_rng(1)
    n = 80
    everywhere, nowhere = np.ones(n, bool), np.zeros(n, bool)
    half = np.arange(n) < n // 2
    # the summary head wrong everywhere, or uninformative: no head
    assert choose_summary_weight(*_heads(rng, n, 4, everywhere, nowhere)) == 0.0
    network, _, labels = _heads(rng, n, 4, rng.random(n) < 0.8, nowhere)
    assert choose_summary_weight(network, torch.full((n, 4), 0.25, dtype=torch.float64), labels) == 0.0
    # both perfect (BasicMotions in the probe): a tie keeps the network alone
    assert choose_summary_weight(*_heads(rng, n, 4, everywhere, everywhere)) == 0.0
    # the network uninformative, the summary right: the largest share, never the whole prediction
    _, summary, labels = _heads(rng, n, 4, nowhere, rng.random(n) < 0.8)
    assert choose_summary_weight(torch.full((n, 4), 0.25, dtype=torch.float64), summary, labels) == MAX_SUMMARY_WEIGHT
    # each head right on its own half and unsure on the other: the mixture's loss is symmetric in w about 0.5
    labels = torch.as_tensor(rng.integers(4, size=n))
    sure = torch.nn.functional.one_hot(labels, 4).double() * 0.8 + 0.05
    unsure = torch.full((n, 4), 0.25, dtype=torch.float64)
    network = torch.where(torch.as_tensor(half)[:, None], sure, unsure)
    summary = torch.where(torch.as_tensor(~half)[:, None], sure, unsure)
    assert choose_summary_weight(network, summary, labels) == 0.5
    # against a direct search: the chosen share's calibrated loss is the grid's least, within the tolerance
    network, summary, labels = _heads(rng, n, 3, rng.random(n) < 0.75, rng.random(n) < 0.65, sure=0.95)
    chosen = choose_summary_weight(network, summary, labels)
    cn, cs = calibrate(network, labels), calibrate(summary, labels)
    losses = {w: _log_loss((1 - w) * cn + w * cs, labels.numpy()) for w in SUMMARY_WEIGHTS}
    assert losses[chosen] <= min(losses.values()) + SUMMARY_TOLERANCE
    assert all(losses[w] > losses[chosen] - SUMMARY_TOLERANCE for w in SUMMARY_WEIGHTS if w < chosen)


def test_the_rule_keeps_the_full_list_unless_the_light_one_wins_by_the_margin():
    assert PROBE_MARGIN == 0.1 and LIGHT_AUGMENT == "scale,jitter"
    assert choose_augment({"auto": 0.48, LIGHT_AUGMENT: 0.62}) == LIGHT_AUGMENT  # ACSF1's probe, seed 0
    assert choose_augment({"auto": 0.50, LIGHT_AUGMENT: 0.60}) == LIGHT_AUGMENT  # exactly the margin
    assert choose_augment({"auto": 0.92, LIGHT_AUGMENT: 0.96}) == "auto"  # a small lead is not enough
    assert choose_augment({"auto": 0.90, LIGHT_AUGMENT: 0.80}) == "auto"


def test_the_probe_predicts_every_train_sample_once_per_candidate():
    """A set whose class is its level: every short model gets every held-out sample right, so both accuracies
    are 1 (counted over all 24 train samples, each held out once) and the full list stays."""
    ds = _set(24, 128, separable=True)
    cfg = TrainConfig(data=ds, channels=8, progress=False).validate()
    kwargs = model_kwargs_for(cfg, ds)
    result = probe_augment(cfg, _train(ds), kwargs, run_steps=60, shift=12)
    assert result.steps == 20 and result.folds == PROBE_FOLDS
    assert result.accuracy == {"auto": 1.0, LIGHT_AUGMENT: 1.0} and result.chosen == "auto"
    # the summary's head scores the same held-out samples: its level part separates the classes too
    assert result.summary_accuracy == {"auto": 1.0, LIGHT_AUGMENT: 1.0}
    assert (result.distribution > 0) == (result.summary_weight > 0) and result.summary_weight in SUMMARY_WEIGHTS
    saved = result.to_dict()
    assert saved == {"accuracy": {"auto": 1.0, LIGHT_AUGMENT: 1.0}, "steps": 20, "folds": 2, "margin": 0.1,
                     "chosen": "auto", "summary_accuracy": {"auto": 1.0, LIGHT_AUGMENT: 1.0},
                     "distribution": result.distribution, "summary_weight": result.summary_weight}
    assert ProbeResult.from_dict(saved) == result
    # a record from before the summary's decision: no head, as that run trained
    old = ProbeResult.from_dict({"accuracy": {"auto": 0.5}, "steps": 3, "folds": 2, "chosen": "auto"})
    assert old.distribution == 0 and old.summary_accuracy == {} and old.summary_weight == 0.0
    # one from before its share (R5): the fixed 0.5 those runs trained with
    r5 = ProbeResult.from_dict({"accuracy": {"auto": 0.5}, "steps": 3, "folds": 2, "chosen": "auto",
                                "summary_accuracy": {"auto": 0.6}, "summary_margin": 0.0, "distribution": 33})
    assert r5.distribution == 33 and r5.summary_weight == 0.5


def test_a_short_set_probes_the_summary_alone_and_the_run_trains_what_it_chose(tmp_path, monkeypatch):
    """T < 128: one candidate (the run's own list); the probe's choice of the summary's head is the model's."""
    ds = _set(24, 40, separable=True)
    cfg = TrainConfig(data=ds, channels=8, progress=False).validate()
    result = probe_augment(cfg, _train(ds), model_kwargs_for(cfg, ds), run_steps=30, shift=0)
    assert set(result.accuracy) == {"auto"} == set(result.summary_accuracy) and result.chosen == "auto"
    monkeypatch.setattr(augment_probe, "probe_augment", lambda *a, **k: ProbeResult(
        accuracy={"auto": 0.5}, steps=1, summary_accuracy={"auto": 0.9}, distribution=7, summary_weight=0.35))
    run = fit(dataclasses.replace(cfg, steps=2, ensemble=1), tmp_path / "on", quiet=True)
    saved = json.loads((tmp_path / "on" / "config.json").read_text())["resolved"]
    assert saved["model"]["distribution"] == 7 and saved["schedule"]["augment_probe"]["distribution"] == 7
    assert saved["model"]["summary_weight"] == 0.35
    from attnpool import load_run

    model = load_run(run.run_dir).model
    assert model.summary is not None and model.summary.levels == 7 and model.summary_weight == 0.35
    # named: the option wins and nothing is probed
    fit(dataclasses.replace(cfg, steps=2, ensemble=1, distribution=0), tmp_path / "off", quiet=True)
    saved = json.loads((tmp_path / "off" / "config.json").read_text())["resolved"]
    assert saved["model"]["distribution"] == 0 and "augment_probe" not in saved["schedule"]


def test_the_probes_choice_is_what_the_run_trains_with_records_and_resumes(tmp_path, monkeypatch):
    calls = []

    def light(cfg, train, kwargs, run_steps, shift=0):
        calls.append(run_steps)
        return ProbeResult(accuracy={"auto": 0.4, LIGHT_AUGMENT: 0.7}, steps=2, chosen=LIGHT_AUGMENT)

    monkeypatch.setattr(augment_probe, "probe_augment", light)
    ds = _set(24, 200)
    cfg = TrainConfig(data=ds, steps=4, channels=8, ensemble=1, progress=False)
    result = fit(cfg, tmp_path / "run", quiet=True)
    schedule = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["schedule"]
    assert calls == [4]
    assert schedule["augment"] == ["scale", "jitter"] and schedule["shift"] == 0 and schedule["mixup_alpha"] is None
    assert schedule["augment_probe"]["chosen"] == LIGHT_AUGMENT
    assert schedule["augment_probe"]["accuracy"] == {"auto": 0.4, LIGHT_AUGMENT: 0.7}
    assert result.metrics["probe_seconds"] >= 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["augment"] == "auto"  # the option, as given
    # resume: the recorded outcome is used, the probe is not run again
    (tmp_path / "run" / "metrics.json").unlink()
    (tmp_path / "run" / "INCOMPLETE").write_text("interrupted\n")
    saved = str((tmp_path / "run" / "data.npz").resolve())  # a run trained on arrays resumes from its data.npz
    fit(dataclasses.replace(cfg, data=saved), tmp_path / "run", quiet=True, resume=True)
    assert calls == [4] and (tmp_path / "run" / "metrics.json").exists()
    # named augmentations and summary: no probe, the names as given
    fit(TrainConfig(data=ds, steps=4, channels=8, ensemble=1, progress=False, augment="scale,shift", distribution=0),
        tmp_path / "named", quiet=True)
    assert calls == [4]


@pytest.mark.parametrize("chosen", ["auto", LIGHT_AUGMENT])
def test_the_module_trains_with_the_chosen_augmentations(tmp_path, monkeypatch, chosen):
    from attnpool.train import recipe

    seen = []
    build = recipe.build_module

    def spy(cfg, kwargs, train):
        module = build(cfg, kwargs, train)
        seen.append((module.augmentations, module.shift))
        return module

    monkeypatch.setattr(recipe, "build_module", spy)
    monkeypatch.setattr(augment_probe, "probe_augment",
                        lambda *a, **k: ProbeResult(accuracy={"auto": 0.5, LIGHT_AUGMENT: 0.5}, steps=1, chosen=chosen))
    fit(TrainConfig(data=_set(24, 200), steps=2, channels=8, ensemble=1, progress=False), tmp_path / "r", quiet=True)
    assert seen == ([(("scale", "jitter", "shift", "mixup"), 20)] if chosen == "auto" else [(("scale", "jitter"), 0)])


def test_attnpool_train_says_what_the_probe_measured_and_chose(tmp_path):
    from ..cli_helpers import attnpool

    ds = _set(24, 128, separable=True)
    np.savez(tmp_path / "long.npz", x=ds.x, y=ds.y, split=np.array(["train"] * 24 + ["test"] * 10))
    proc = attnpool("train", tmp_path / "long.npz", "--out", tmp_path / "run", "--steps", "6", "--channels", "8",
                    "--ensemble", "1", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    line = next(li for li in proc.stdout.splitlines() if li.startswith("probe ("))
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["schedule"]
    probe = saved["augment_probe"]
    acc, summary = probe["accuracy"], probe["summary_accuracy"][probe["chosen"]]
    assert line == (f"probe (2 folds of the train part, held-out accuracy): network auto {acc['auto']:.3f}, "
                    f"scale,jitter {acc['scale,jitter']:.3f} -> trained with {','.join(saved['augment'])}; "
                    f"distribution summary head {summary:.3f} -> "
                    + (f"mixed in at {probe['summary_weight']:.2f}" if probe["distribution"] else "left out"))
    assert saved["augment"] == (["scale", "jitter"] if saved["augment_probe"]["chosen"] == LIGHT_AUGMENT
                                else ["scale", "jitter", "shift", "mixup"])
