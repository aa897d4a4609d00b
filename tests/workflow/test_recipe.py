"""The issue-9 recipe end to end on tiny data: a shipped split trains whole, the saved model is the EMA at the
last step, the checkpoint holds the EMA for --resume, and an ensemble run evaluates, predicts and explains."""

import numpy as np
import pytest
import torch

from attnpool.models import SpatioTemporalEnsemble
from attnpool.workflow import TrainConfig, evaluate_run, explain_run, fit, load_run, predict_run


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
