"""SpatioTemporalEnsemble: averaged probabilities / values / weights, seeded members, build_model."""

import pytest
import torch

from attnpool.models import SpatioTemporalEnsemble, SpatioTemporalNet, build_model

NET = dict(n_nodes=2, n_features=1, out_features=3, encoder="linear", steps=12)


def _batch(seed=0, S=5, T=12):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(S, 2, T, 1, generator=gen)
    mask = torch.ones(S, 2, T, dtype=torch.bool)
    mask[0, 1, 7:] = False
    mask[1, :, 4:] = False
    return x, mask


def test_classify_averages_member_probabilities_and_weights():
    ens = build_model({**NET, "task": "classify", "members": 3}, seed=4).eval()
    x, mask = _batch()
    logp, w = ens(x, mask)
    outs = [m(x, mask) for m in ens.members]
    expected = torch.stack([torch.softmax(o, -1) for o, _ in outs]).mean(0)
    torch.testing.assert_close(torch.softmax(logp, -1), expected)
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(5))
    torch.testing.assert_close(w, torch.stack([wk for _, wk in outs]).mean(0))
    torch.testing.assert_close(w.sum(-1), torch.ones(5, 2))  # still sums to 1 over valid steps
    assert (w[~mask] == 0).all()


def test_regress_averages_values():
    ens = build_model({**NET, "task": "regress", "members": 2}, seed=0).eval()
    x, mask = _batch(1)
    pred, _ = ens(x, mask)
    torch.testing.assert_close(pred, (ens.members[0](x, mask)[0] + ens.members[1](x, mask)[0]) / 2)


def test_members_start_from_seed_plus_k_and_leave_the_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    ens = SpatioTemporalEnsemble(2, seed=7, task="classify", **NET)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(7)
    single = SpatioTemporalNet(task="classify", **NET)
    for a, b in zip(single.state_dict().values(), ens.members[0].state_dict().values()):
        torch.testing.assert_close(a, b)
    first = ens.members[0].encoder.proj.weight
    assert not torch.equal(first, ens.members[1].encoder.proj.weight)


def test_build_model_rebuilds_a_saved_ensemble_and_a_single_net():
    ens = build_model({**NET, "task": "classify", "members": 2}, seed=0)
    again = build_model({**NET, "task": "classify", "members": 2})
    again.load_state_dict(ens.state_dict())  # strict: same keys (members.0..., members.1...)
    assert type(build_model({**NET, "task": "classify"})) is SpatioTemporalNet
    assert type(build_model({**NET, "task": "classify", "members": 1})) is SpatioTemporalNet
    with pytest.raises(ValueError, match="members must be an int >= 1, got 0"):
        build_model({**NET, "task": "classify", "members": 0})
    with pytest.raises(ValueError, match=r"members must be an int >= 2 \(use SpatioTemporalNet for one\), got 1"):
        SpatioTemporalEnsemble(1, task="classify", **NET)
