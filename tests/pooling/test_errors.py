"""Bad arguments raise TypeError/ValueError naming the argument, the expected and the actual value."""

import pytest
import torch

from attnpool import AttentionPool, MultiHeadAttentionPool, make_pool
from attnpool.pooling import POOLS


@pytest.mark.parametrize("name", list(POOLS))
def test_feat_with_fewer_than_two_dims(name):
    with pytest.raises(ValueError, match=r"feat must have at least 2 dims .* got 1 dim"):
        make_pool(name, 8)(torch.randn(8))


@pytest.mark.parametrize("name", list(POOLS))
def test_wrong_channel_count(name):
    with pytest.raises(ValueError, match=r"feat must have 8 channels .*got 5"):
        make_pool(name, 8)(torch.randn(2, 3, 5))


def test_mask_shape_mismatch():
    with pytest.raises(ValueError, match=r"mask must have shape .*\(2, 3\).*got \(2, 4\)"):
        AttentionPool(8)(torch.randn(2, 3, 8), mask=torch.ones(2, 4, dtype=torch.bool))


def test_non_bool_mask():
    with pytest.raises(TypeError, match=r"mask must have dtype torch.bool.*got torch.float32"):
        AttentionPool(8)(torch.randn(2, 3, 8), mask=torch.ones(2, 3))


def test_zero_steps():
    with pytest.raises(ValueError, match=r"at least one time step.*\(2, 0, 8\)"):
        AttentionPool(8)(torch.randn(2, 0, 8))


def test_integer_feat():
    with pytest.raises(TypeError, match=r"feat must be a floating tensor.*torch.int64"):
        AttentionPool(8)(torch.ones(2, 3, 8, dtype=torch.long))


def test_not_a_tensor():
    with pytest.raises(TypeError, match=r"feat must be a torch.Tensor.*list"):
        AttentionPool(8)([[1.0] * 8])


def test_unknown_pool_lists_known_names():
    with pytest.raises(ValueError, match=r"unknown pool name 'median'; known names: attention, mean, max, last, gated, multihead"):
        make_pool("median", 8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"in_features": 0}, r"in_features must be a positive int, got 0"),
        ({"in_features": -3}, r"in_features must be a positive int, got -3"),
        ({"in_features": 2.5}, r"in_features must be a positive int, got float"),
        ({"in_features": 8, "hidden_features": 0}, r"hidden_features must be a positive int, got 0"),
        ({"in_features": 8, "temperature": 0.0}, r"temperature must be a positive finite number, got 0.0"),
        ({"in_features": 8, "dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"in_features": 8, "impl": "cuda"}, r"impl must be one of .*got 'cuda'"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        AttentionPool(**kwargs)


def test_heads_must_divide_channels():
    with pytest.raises(ValueError, match=r"in_features must be divisible by heads, got in_features=10, heads=4"):
        MultiHeadAttentionPool(10, heads=4)
    with pytest.raises(ValueError, match=r"heads must be a positive int, got 0"):
        MultiHeadAttentionPool(8, heads=0)
