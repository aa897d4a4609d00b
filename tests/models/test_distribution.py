"""DistributionSummary and its place in SpatioTemporalNet: counts against a loop reference, padding and masking,
order-freedom of the values' part, thresholds from the training data, the clean summary under augmentation."""

import numpy as np
import pytest
import torch

from attnpool import SpatioTemporalNet
from attnpool.models import build_model
from attnpool.models.distribution import DistributionSummary, dilations_for_length


def reference_counts(x, mask, thresholds, dilations):
    """Loop reference: for each sample, node, dilation, feature and threshold, the share of valid steps above it
    (in float32, as the module computes: thresholds are quantiles, so ties with the data do occur)."""
    x, thresholds = np.asarray(x, dtype=np.float32), np.asarray(thresholds, dtype=np.float32)
    mask = np.ones(x.shape[:3], dtype=bool) if mask is None else np.asarray(mask)
    s, n_nodes, steps, n_features = x.shape
    out = np.zeros((s, n_nodes, len(dilations), n_features, thresholds.shape[-1]))
    for b in range(s):
        for n in range(n_nodes):
            for i, d in enumerate(dilations):
                pairs = [(t, t + d) for t in range(steps - d) if mask[b, n, t] and mask[b, n, t + d]]
                for f in range(n_features):
                    values = [x[b, n, u, f] - (x[b, n, t, f] if d else np.float32(0)) for t, u in pairs]
                    for k, thr in enumerate(thresholds[n, i, f]):
                        out[b, n, i, f, k] = np.mean([v > thr for v in values]) if values else 0.0
    return out.reshape(s, n_nodes, -1)


def test_dilations_follow_the_length():
    assert dilations_for_length(7) == (0, 1)
    assert dilations_for_length(24) == (0, 1, 2, 4)
    assert dilations_for_length(84) == (0, 1, 2, 4, 8, 16)
    assert dilations_for_length(1460) == (0, 1, 2, 4, 8, 16, 32)
    assert dilations_for_length(None) == (0, 1)


def test_counts_match_a_loop_reference_with_holes_and_padding():
    torch.manual_seed(0)
    summary = DistributionSummary(2, 3, levels=5, steps=20)
    x = torch.randn(4, 2, 20, 3)
    mask = torch.rand(4, 2, 20) > 0.25
    mask[1, 0] = False  # a node with no valid step: zeros
    summary.fit(x, mask)
    got = summary.counts(x, mask)
    want = reference_counts(x, mask, summary.thresholds, summary.dilations)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
    assert (got[1, 0] == 0).all()


def test_fit_places_thresholds_at_the_training_quantiles_and_standardises_the_features():
    torch.manual_seed(1)
    summary = DistributionSummary(1, 2, levels=9, steps=40)
    x = torch.randn(30, 1, 40, 2) * torch.tensor([1.0, 5.0])
    summary.fit(x)
    levels = np.linspace(0, 1, 11)[1:-1]
    np.testing.assert_allclose(summary.thresholds[0, 0, 1].numpy(), np.quantile(x[:, 0, :, 1].numpy(), levels),
                               rtol=1e-5)
    diffs = (x[:, 0, 4:, 0] - x[:, 0, :-4, 0]).numpy()
    np.testing.assert_allclose(summary.thresholds[0, summary.dilations.index(4), 0].numpy(),
                               np.quantile(diffs, levels), rtol=1e-5)
    s = summary(x)
    torch.testing.assert_close(s.mean(0), torch.zeros_like(s[0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(s.std(0, unbiased=False), torch.ones_like(s[0]), atol=1e-4, rtol=0)


def test_padding_never_reaches_the_summary_and_the_values_part_ignores_order():
    torch.manual_seed(2)
    summary = DistributionSummary(1, 2, levels=7, steps=30)
    summary.fit(torch.randn(10, 1, 30, 2))
    x = torch.randn(3, 1, 21, 2)
    padded = torch.cat([x, torch.full((3, 1, 9, 2), float("nan"))], dim=2)
    mask = torch.zeros(3, 1, 30, dtype=torch.bool)
    mask[:, :, :21] = True
    torch.testing.assert_close(summary(padded, mask), summary(x))
    values_part = 2 * 7  # the first block: d = 0, F x K
    shuffled = x[:, :, torch.randperm(21)]
    torch.testing.assert_close(summary(shuffled)[..., :values_part], summary(x)[..., :values_part])
    assert not torch.equal(summary(shuffled), summary(x))  # the differences see the order


def test_network_mixes_the_two_heads_and_rebuilds_from_its_kwargs():
    torch.manual_seed(3)
    kwargs = dict(n_nodes=2, n_features=3, task="classify", out_features=4, steps=25, distribution=5)
    net = SpatioTemporalNet(**kwargs)
    x = torch.randn(12, 2, 25, 3) * 3 + 1
    mask = torch.ones(12, 2, 25, dtype=torch.bool)
    mask[:4, :, 18:] = False
    net.fit_normalization(x, mask)
    net.eval()
    pred, weights = net(x, mask)
    # the summary the forward computes is distribution_summary's, and a given one replaces it
    summary = net.distribution_summary(x, mask)
    torch.testing.assert_close(net(x, mask, summary=summary)[0], pred)
    assert not torch.allclose(net(x, mask, summary=torch.zeros_like(summary))[0], pred)
    with pytest.raises(ValueError, match=r"summary must have shape \[12, 2, "):
        net(x, mask, summary=summary[:, :, 1:])
    # NaN at masked steps changes nothing
    dirty = x.clone()
    dirty[:4, :, 18:] = float("nan")
    torch.testing.assert_close(net(dirty, mask)[0], pred)
    # model.pt's kwargs rebuild it; the buffers travel in the state_dict
    again = build_model(dict(kwargs, members=1))
    again.load_state_dict(net.state_dict())
    torch.testing.assert_close(again.eval()(x, mask)[0], pred)
    # the prediction is the log of the heads' mixed probabilities
    from attnpool.models.network import SUMMARY_WEIGHT

    network, summary_logits, parts_weights = net.forward_parts(x, mask)
    mixed = (1 - SUMMARY_WEIGHT) * network.softmax(-1) + SUMMARY_WEIGHT * summary_logits.softmax(-1)
    torch.testing.assert_close(pred.exp(), mixed)
    torch.testing.assert_close(parts_weights, weights)
    # with the share the probe chose (recorded in model.pt's kwargs): same heads, another mixture
    shared = build_model(dict(kwargs, members=1, summary_weight=0.2))
    shared.load_state_dict(net.state_dict())
    torch.testing.assert_close(shared.eval()(x, mask)[0].exp(), 0.8 * network.softmax(-1) + 0.2 * summary_logits.softmax(-1))
    for bad in (0, 1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="summary_weight must be a number in"):
            SpatioTemporalNet(2, 3, "classify", 4, distribution=5, summary_weight=bad)
    # the summary head is a linear map of the summary (all nodes' features)
    head = net.summary_head[1]
    torch.testing.assert_close(summary_logits, summary.reshape(12, -1) @ head.weight.T + head.bias)
    # gradients reach both heads
    net.train()
    net(x, mask)[0].sum().backward()
    assert head.weight.grad.abs().sum() > 0 and net.head.net[-1].weight.grad.abs().sum() > 0


def test_without_distribution_the_network_is_unchanged():
    net = SpatioTemporalNet(2, 3, "classify", 4)
    assert net.summary is None and net.distribution_summary(torch.randn(1, 2, 5, 3)) is None
    assert not any(key.startswith("summary") for key in net.state_dict())
    assert net.forward_parts(torch.randn(1, 2, 5, 3))[1] is None
    with pytest.raises(ValueError, match="distribution must be an int >= 0"):
        SpatioTemporalNet(2, 3, "classify", 4, distribution=-1)
    with pytest.raises(ValueError, match="distribution .* is for task 'classify'"):
        SpatioTemporalNet(2, 3, "regress", 1, distribution=5)


@pytest.mark.parametrize("augment", ["scale,jitter", "scale,jitter,mixup"])
def test_training_reads_the_summary_off_the_clean_batch(augment):
    from attnpool.train.module import PoolingModule

    torch.manual_seed(4)
    kwargs = dict(n_nodes=1, n_features=1, task="classify", out_features=2, steps=40, distribution=5, dropout=0.0)
    module = PoolingModule(kwargs, augment=augment, ema=0.0)
    x = torch.randn(8, 1, 40, 1)
    module.model.fit_normalization(x)
    seen = {}
    forward_parts, mixup = module.model.forward_parts, module.mixup

    def spy(x_in, mask=None, summary=None, **kwargs):
        seen["x"], seen["summary"] = x_in, summary
        return forward_parts(x_in, mask, summary, **kwargs)

    def mixup_spy(*args, **kwargs):
        out = mixup(*args, **kwargs)
        seen["mix"] = out[2]
        return out

    module.model.forward_parts, module.mixup = spy, mixup_spy
    batch = {"x": x, "mask": None, "y": torch.randint(0, 2, (8,))}
    loss, _ = module.loss(batch, module.model, augment=True)
    assert not torch.equal(seen["x"], x)  # the inputs were augmented, the summary is the clean batch's
    clean = module.model.distribution_summary(x)
    if "mix" in seen:  # mixed with the inputs' weight and partner
        lam, perm = seen["mix"]
        clean = lam * clean + (1 - lam) * clean[perm]
    torch.testing.assert_close(seen["summary"], clean)
    # each head on its own loss: the sum of the two heads' (mixed-label) cross-entropies
    network, summary_logits, _ = forward_parts(seen["x"], None, seen["summary"])
    lam, perm = seen.get("mix", (1.0, torch.arange(8)))

    def ce(out):
        return (lam * torch.nn.functional.cross_entropy(out, batch["y"], label_smoothing=0.1)
                + (1 - lam) * torch.nn.functional.cross_entropy(out, batch["y"][perm], label_smoothing=0.1))

    torch.testing.assert_close(loss, ce(network) + ce(summary_logits))
    seen.clear()
    module.loss(batch, module.model, augment=False)
    assert seen["summary"] is None  # evaluation: the model reads its own input
