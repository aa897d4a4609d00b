"""torch.autograd.gradcheck in float64 for every pooling, with and without a mask (empty row included)."""

import pytest
import torch

from attnpool import make_pool
from attnpool.pooling import POOLS


@pytest.mark.parametrize("name", list(POOLS))
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck(name, masked):
    torch.manual_seed(1)
    pool = make_pool(name, 4, **({"heads": 2} if name == "multihead" else {})).double()
    feat = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = None
    if masked:
        mask = torch.tensor([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 1, 1, 1]], dtype=torch.bool)
    params = tuple(pool.parameters())

    def run(x, *weights):
        with torch.nn.utils.stateless._reparametrize_module(pool, dict(zip(dict(pool.named_parameters()), weights))):
            out, w = pool(x, mask=mask, return_weights=True)
        return out, w

    inputs = (feat,) + tuple(p.detach().clone().requires_grad_() for p in params)
    # max pooling is piecewise linear: random inputs have no ties, so finite differences are valid.
    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-5)
