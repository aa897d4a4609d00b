"""SpatioTemporalNet with the default resconv encoder: padding never changes a prediction, depth from steps,
and any T works at prediction time."""

import torch

from attnpool.models import SpatioTemporalNet
from attnpool.models.resconv import depth_for_length


def _net(**kw):
    torch.manual_seed(0)
    net = SpatioTemporalNet(n_nodes=3, n_features=2, task="classify", out_features=4, steps=20,
                            pool="attention-mean", **kw)
    return net


def test_depth_follows_steps_and_is_the_default_encoder():
    net = _net()
    assert type(net.encoder).__name__ == "ResConvEncoder" and net.steps == 20
    assert net.encoder.depth == depth_for_length(20) == 4


def test_right_padding_with_nan_changes_nothing_in_train_and_eval_mode():
    net = _net()
    x = torch.randn(6, 3, 20, 2)
    mask = torch.ones(6, 3, 20, dtype=torch.bool)
    mask[2, 1, 13:] = False  # one shorter series inside the batch
    padded = torch.cat([x, torch.full((6, 3, 7, 2), float("nan"))], dim=2)
    pmask = torch.cat([mask, torch.zeros(6, 3, 7, dtype=torch.bool)], dim=2)
    x = x.masked_fill(~mask.unsqueeze(-1), float("inf"))  # masked values never matter, whatever they are
    net.eval()  # dropout draws differ for a longer T: BatchNorm's two modes are compared without it
    for train in (False, True):
        for module in net.modules():
            if type(module).__name__ == "MaskedBatchNorm1d":
                module.train(train)
        out, w = net(x, mask)
        out_p, w_p = net(padded, pmask)
        torch.testing.assert_close(out_p, out)
        torch.testing.assert_close(w_p[..., :20], w)
        assert (w_p[..., 20:] == 0).all() and torch.isfinite(out_p).all()


def test_longer_series_than_built_for_still_predicts():
    net = _net().eval()
    out, w = net(torch.randn(2, 3, 75, 2))
    assert out.shape == (2, 4) and w.shape == (2, 3, 75)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3))
