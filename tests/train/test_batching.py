"""The default batch-size rule (attnpool.train.batching) and how a run resolves it."""

import math

import pytest

from attnpool.train.batching import MAX_NODE_STEPS, default_batch_size


@pytest.mark.parametrize("n_train", [1, 36, 50, 200, 270, 4096])
def test_small_sets_keep_batch_16(n_train):
    # The six UEA/UCR sets of the accuracy benchmark (1-12 nodes, 7-427 steps) are all "small".
    for nodes, steps in ((1, 427), (12, 29), (6, 100)):
        assert default_batch_size(n_train, nodes, steps) == 16


def test_big_sets_get_about_256_batches_per_epoch_up_to_256():
    for n_train in (4097, 5000, 20_000, 24_000, 65_536, 10**6):
        b = default_batch_size(n_train, 1, 30)
        assert b & (b - 1) == 0  # a power of two
        assert b == min(256, 2 ** math.floor(math.log2(n_train / 256)))
        assert 16 <= b <= 256
        if b < 256:
            assert 256 <= n_train // b < 512  # about 256 steps an epoch


def test_many_nodes_shrink_the_batch_to_the_node_step_budget():
    assert default_batch_size(24_000, 207, 12) == 8  # the traffic-like set: memory decides (2,484 node-steps each)
    assert default_batch_size(24_000, 20, 12) == 64  # fewer nodes: samples decide
    assert default_batch_size(73_000, 10_000, 12) == 1  # 10,000 sensors: one window a batch
    assert default_batch_size(100, 100_000, 100) == 1  # never below 1
    for n_train, nodes, steps in ((50_000, 500, 30), (10**5, 3000, 24), (300, 64, 512), (10**5, 40, 60)):
        b = default_batch_size(n_train, nodes, steps)
        assert b == 1 or b * nodes * steps <= MAX_NODE_STEPS
        assert 2 * b * nodes * steps > MAX_NODE_STEPS or b == default_batch_size(n_train, 1, 1)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_bad_sizes_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="n_nodes must be an int >= 1"):
        default_batch_size(100, bad, 10)


def test_a_run_resolves_none_and_keeps_an_int():
    from attnpool.train import TrainConfig
    from attnpool.train.recipe import batch_size_for

    small = {"n_nodes": 7, "steps": 30}
    assert batch_size_for(TrainConfig(), 60, small) == 16
    assert batch_size_for(TrainConfig(batch_size=5), 60, small) == 5
    assert batch_size_for(TrainConfig(), 20_000, small) == 64
    assert batch_size_for(TrainConfig(), 73_000, {"n_nodes": 10_000, "steps": 12}) == 1
