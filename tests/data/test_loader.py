"""The batch-wise loader: whole batches from one ``__getitems__`` call, equal to indexing the set; torch's sampler
kept (a DistributedSampler shards it)."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from attnpool.data import DataError, from_arrays, make_loader
from attnpool.data.loader import SplitDataset, built_batch


def _set(mask=True):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3, 5, 2)).astype(np.float32)
    m = rng.random((60, 3, 5)) > 0.2 if mask else None
    return from_arrays(x, np.arange(60) % 3, mask=m, split=(0.5, 0.25, 0.25))


@pytest.mark.parametrize("mask", [True, False])
def test_batches_equal_the_set_indexed(mask):
    ds = _set(mask)
    seen = []
    for batch in make_loader(ds, "train", batch_size=7, shuffle=True, seed=1):
        index = batch["index"].numpy()
        seen.extend(index.tolist())
        np.testing.assert_array_equal(batch["x"].numpy(), ds.x[index])
        expected = np.ones((len(index), 3, 5), bool) if ds.mask is None else ds.mask[index]
        np.testing.assert_array_equal(batch["mask"].numpy(), expected)
        np.testing.assert_array_equal(batch["y"].numpy(), ds.y[index])
        assert batch["x"].dtype == torch.float32 and batch["mask"].dtype == torch.bool
        assert batch["y"].dtype == torch.int64
    assert sorted(seen) == ds.splits["train"].tolist()


def test_one_item_and_the_collate_pass_through():
    ds = _set()
    data = SplitDataset(ds, "val")
    item = data[2]
    j = int(ds.splits["val"][2])
    assert item["index"].shape == () and int(item["index"]) == j
    np.testing.assert_array_equal(item["x"].numpy(), ds.x[j])
    batch = data.__getitems__([0, 2])
    assert built_batch(batch) is batch
    with pytest.raises(DataError, match="split must be one of"):
        SplitDataset(ds, "dev")


def test_a_distributed_sampler_shards_the_batches():
    ds = _set()
    data = SplitDataset(ds, "train")
    shards = []
    for rank in (0, 1):
        sampler = DistributedSampler(data, num_replicas=2, rank=rank, shuffle=True, seed=0)
        loader = DataLoader(data, batch_size=4, sampler=sampler, collate_fn=built_batch)
        shards.append({int(i) for b in loader for i in b["index"]})
    assert not shards[0] & shards[1] and shards[0] | shards[1] == set(ds.splits["train"].tolist())
