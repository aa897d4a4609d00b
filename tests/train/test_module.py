"""PoolingModule: the EMA is a hand-computable average and lives in the checkpoint; clipping is per member;
augmentation follows the task."""

import pytest
import torch

pytest.importorskip("lightning")

from attnpool.train.module import PoolingModule  # noqa: E402
from attnpool.train.schedule import ema_decay  # noqa: E402

NET = dict(n_nodes=1, n_features=1, out_features=2, encoder="linear", pool="attention", steps=4)


def _set_all(model, value):
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
        model.x_mean.fill_(value)


def test_ema_equals_the_hand_computed_average():
    module = PoolingModule({**NET, "task": "classify"}, ema=0.9)
    weights = [2.0, -1.0, 5.0, 0.5]
    for value in weights:
        _set_all(module.model, value)
        module.update_ema()
    # first update copies; then avg = d_n * avg + (1 - d_n) * w_n with d_n = min(0.9, (1 + n) / (10 + n))
    expected = weights[0]
    for n, value in enumerate(weights[1:], start=1):
        d = ema_decay(n, 0.9)
        expected = d * expected + (1 - d) * value
    # by hand: 2 -> 2/11*2 + 9/11*(-1) = -5/11 -> 1/4*(-5/11) + 3/4*5 = 40/11 -> 4/13*40/11 + 9/13*0.5
    assert expected == pytest.approx(4 / 13 * 40 / 11 + 9 / 13 * 0.5)
    for p in module.ema_model.parameters():
        torch.testing.assert_close(p, torch.full_like(p, expected))
    torch.testing.assert_close(module.ema_model.x_mean, torch.full((1, 1), expected))  # buffers averaged too
    assert int(module.ema_updates) == 4 and module.averaged is module.ema_model


def test_ema_state_is_in_the_checkpoint_state_dict_and_off_when_zero():
    module = PoolingModule({**NET, "task": "classify"})
    keys = set(module.state_dict())
    assert "ema_updates" in keys and any(k.startswith("ema_model.") for k in keys)
    assert {k.removeprefix("ema_model.") for k in keys if k.startswith("ema_model.")} == set(module.model.state_dict())
    plain = PoolingModule({**NET, "task": "classify"}, ema=0.0)
    assert plain.ema_model is None and plain.averaged is plain.model


def test_gradients_are_clipped_per_ensemble_member():
    module = PoolingModule({**NET, "task": "classify", "members": 2}, grad_clip=1.0)
    small, large = module.model.members
    for member, scale in ((small, 1e-3), (large, 1e3)):
        for p in member.parameters():
            p.grad = torch.full_like(p, scale)
    before = torch.cat([p.grad.flatten() for p in small.parameters()]).clone()
    module.on_before_optimizer_step(None)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in large.parameters()]))
    assert norm == pytest.approx(1.0, rel=1e-4)
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in small.parameters()]), before)  # untouched


def test_augmentation_scales_and_jitters_classification_inputs_only():
    torch.manual_seed(0)
    clf = PoolingModule({**NET, "task": "classify"})
    reg = PoolingModule({**NET, "task": "regress"})
    x = torch.randn(64, 1, 4, 1)
    assert torch.equal(reg.augment(x, reg.model), x)
    changed = clf.augment(x, clf.model) - x
    assert changed.abs().max() > 0 and changed.std() < 0.3  # small: 0.1 scale and 0.03 jitter in std units


def test_circular_shift_rolls_each_sample_by_at_most_k_steps():
    torch.manual_seed(0)
    module = PoolingModule({**NET, "task": "classify", "n_nodes": 2, "steps": 20}, augment="shift", shift=3)
    assert module.augmentations == ("shift",) and module.shift == 3
    x = torch.randn(64, 2, 20, 1)
    out = module.augment(x, module.model)
    seen = set()
    for b in range(64):  # each sample is x rolled by one shift in -3..3, the same for all its nodes
        matches = [k for k in range(-3, 4) if torch.equal(out[b], torch.roll(x[b], k, dims=1))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(range(-3, 4))
    # "shift" absent from augment: no roll whatever k is; k = 0: none either
    assert torch.equal(PoolingModule({**NET, "task": "classify"}, augment="none", shift=3).augment(x, module.model), x)
    assert PoolingModule({**NET, "task": "classify"}, shift=0).shift == 0
    with pytest.raises(ValueError, match="shift must be an int >= 0, got -1"):
        PoolingModule({**NET, "task": "classify"}, shift=-1)


def test_mixup_loss_is_the_lam_weighted_loss_of_both_labels_on_the_mixed_batch():
    """The training loss under mixup equals, computed independently: the model on lam*x + (1-lam)*x[perm] (masked
    steps first set to the node's mean) with mask | mask[perm], then lam*CE(y) + (1-lam)*CE(y[perm]) (same RNG
    draws replayed)."""
    import torch.nn.functional as F

    module = PoolingModule({**NET, "task": "classify", "out_features": 3, "steps": 6}, augment="mixup",
                           label_smoothing=0.1)
    module.model.set_normalization(torch.full((1, 1), 2.0), torch.full((1, 1), 3.0))
    assert module.augmentations == ("mixup",)
    x = torch.randn(8, 1, 6, 1)
    mask = torch.ones(8, 1, 6, dtype=torch.bool)
    mask[1, :, 4:] = False
    mask[5, :, 3:] = False
    x[~mask] = float("nan")  # what padding holds never matters
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    batch = {"x": x, "mask": mask, "y": y}
    torch.manual_seed(7)
    loss, _ = module.loss(batch, module.model, augment=True)
    assert torch.isfinite(loss)
    torch.manual_seed(7)
    lam = float(torch.distributions.Beta(torch.tensor(0.4), torch.tensor(0.4)).sample())
    perm = torch.randperm(8)
    assert 0.0 < lam < 1.0 and not torch.equal(perm, torch.arange(8))
    filled = torch.where(mask[..., None], x, torch.tensor(2.0))
    pred, _ = module.model(lam * filled + (1 - lam) * filled[perm], mask | mask[perm])
    expected = lam * F.cross_entropy(pred, y, label_smoothing=0.1) + (1 - lam) * F.cross_entropy(
        pred, y[perm], label_smoothing=0.1)
    torch.testing.assert_close(loss, expected)
    # evaluation never mixes: the plain cross-entropy without smoothing
    module.model.eval()
    plain, _ = module.loss(batch, module.model, augment=False)
    torch.testing.assert_close(plain, F.cross_entropy(module.model(x, mask)[0], y))


def test_mixup_keeps_the_longer_series_steps_filled_with_the_node_mean():
    """Padded sets: a step is valid in the mix when either sample has it; a sample's own masked steps count as its
    node's mean (x_mean, per node and feature), so a short series mixed with a long one is the long one's steps
    pulled towards the mean, not cut to the short one's length. Without a mask: the plain mix."""
    torch.manual_seed(0)
    module = PoolingModule({**NET, "n_nodes": 2, "n_features": 2, "task": "classify"}, augment="mixup")
    means = torch.tensor([[1.0, -1.0], [5.0, 7.0]])
    module.model.set_normalization(means, torch.ones(2, 2))
    x = torch.randn(16, 2, 4, 2)
    mask = torch.rand(16, 2, 4) > 0.3
    x[~mask] = 1e6
    mixed, mixed_mask, (lam, perm) = module.mixup(x, mask)
    assert torch.equal(mixed_mask, mask | mask[perm])
    assert sorted(perm.tolist()) == list(range(16))
    for b in range(16):
        for n in range(2):
            for t in range(4):
                own = x[b, n, t] if mask[b, n, t] else means[n]
                other = x[perm[b], n, t] if mask[perm[b], n, t] else means[n]
                torch.testing.assert_close(mixed[b, n, t], lam * own + (1 - lam) * other)
    plain, no_mask, (lam, perm) = module.mixup(x, None)
    assert no_mask is None
    torch.testing.assert_close(plain, lam * x + (1 - lam) * x[perm])


def test_mixup_is_in_auto_for_classification_only_and_can_be_named_for_regression():
    import torch.nn.functional as F

    assert "mixup" in PoolingModule({**NET, "task": "classify"}).augmentations
    assert PoolingModule({**NET, "task": "regress", "out_features": 1}).augmentations == ()
    reg = PoolingModule({**NET, "task": "regress", "out_features": 1}, augment="mixup")
    x, y = torch.randn(6, 1, 4, 1), torch.randn(6, 1)
    batch = {"x": x, "mask": torch.ones(6, 1, 4, dtype=torch.bool), "y": y}
    torch.manual_seed(3)
    loss, _ = reg.loss(batch, reg.model, augment=True)
    torch.manual_seed(3)
    lam = float(torch.distributions.Beta(torch.tensor(0.4), torch.tensor(0.4)).sample())
    perm = torch.randperm(6)
    pred, _ = reg.model(lam * x + (1 - lam) * x[perm], batch["mask"])
    scale = reg.model.y_std
    expected = lam * (((pred - y) / scale) ** 2).mean() + (1 - lam) * (((pred - y[perm]) / scale) ** 2).mean()
    torch.testing.assert_close(loss, expected)
    del F
