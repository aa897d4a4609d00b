"""AttentionMeanPool: w = g * softmax(scores) + (1 - g) * mean, with AttentionPool's scoring MLP."""

import math

import pytest
import torch

from attnpool import AttentionPool, make_pool
from attnpool.pooling import AttentionMeanPool
from attnpool.pooling.functional import masked_softmax


def test_weights_are_the_gated_mix_of_softmax_and_mean():
    torch.manual_seed(0)
    pool = make_pool("attention-mean", 8, gate=0.7)
    assert isinstance(pool, AttentionMeanPool)
    feat, mask = torch.randn(3, 6, 8), torch.ones(3, 6, dtype=torch.bool)
    mask[1, 4:] = False
    pooled, w = pool(feat, mask=mask, return_weights=True)
    g = torch.sigmoid(torch.tensor(0.7))
    a = masked_softmax(pool.attention(feat).squeeze(-1), mask)
    uniform = mask.float() / mask.float().sum(-1, keepdim=True)
    torch.testing.assert_close(w, g * a + (1 - g) * uniform)
    torch.testing.assert_close(pooled, (w.unsqueeze(-1) * feat).sum(-2))
    torch.testing.assert_close(w.sum(-1), torch.ones(3))
    assert pool.share == pytest.approx(float(g))


def test_scores_rank_the_steps_as_attention_does():
    # The mean part adds the same amount to every valid step: the argmax (pointing game) is the softmax's.
    torch.manual_seed(1)
    pool = AttentionMeanPool(8)
    attention = AttentionPool(8)
    attention.attention.load_state_dict(pool.attention.state_dict())
    feat = torch.randn(4, 2, 9, 8)
    _, w_mix = pool(feat, return_weights=True)
    _, w_att = attention(feat, return_weights=True)
    assert torch.equal(w_mix.argmax(-1), w_att.argmax(-1))


def test_attention_pool_state_dict_contract_is_unchanged():
    assert list(AttentionPool(32).state_dict()) == ["attention.0.weight", "attention.0.bias", "attention.2.weight",
                                                    "attention.2.bias"]
    assert list(AttentionMeanPool(32).state_dict()) == ["gate", "attention.0.weight", "attention.0.bias",
                                                        "attention.2.weight", "attention.2.bias"]


def test_bad_gate_is_refused_and_reset_restores_it():
    with pytest.raises(ValueError, match="gate must be a finite number, got nan"):
        AttentionMeanPool(4, gate=float("nan"))
    pool = AttentionMeanPool(4, gate=-1.0)
    with torch.no_grad():
        pool.gate.fill_(3.0)
    pool.reset_parameters()
    assert float(pool.gate.detach()) == -1.0 and repr(pool) == "AttentionMeanPool(4, hidden=2)"


def test_gate_starts_at_minus_two_near_the_mean():
    """The default gate -2 (recipe R2K, the harness's ``mixg@-2``): g = sigmoid(-2) = 0.12 at the start."""
    torch.manual_seed(0)
    pool = AttentionMeanPool(8)
    assert float(pool.gate.detach()) == -2.0 and pool.share == pytest.approx(1 / (1 + math.exp(2)))
    feat = torch.randn(3, 10, 8)
    _, w = pool(feat, return_weights=True)
    softmax = torch.softmax(pool.attention(feat).squeeze(-1), dim=-1)
    torch.testing.assert_close(w, 0.11920292 * softmax + 0.88079708 / 10)
