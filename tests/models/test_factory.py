import pytest
import torch

from attnpool.models import SpatioTemporalNet


@pytest.mark.parametrize("encoder, mixer, pool", [("tcn", "graph", "attention"), ("gru", "attention", "multihead"),
                                                  ("linear", "none", "gated")])
def test_device_and_dtype_reach_every_parameter_and_buffer(encoder, mixer, pool):
    model = SpatioTemporalNet(3, 2, "regress", 2, encoder=encoder, mixer=mixer, pool=pool, channels=8, per_node=True,
                              dtype=torch.float64, device="cpu")
    tensors = list(model.parameters()) + list(model.buffers())
    assert all(t.dtype == torch.float64 and t.device.type == "cpu" for t in tensors)
    out, weights = model(torch.randn(2, 3, 9, 2, dtype=torch.float64))
    assert out.dtype == weights.dtype == torch.float64 and out.shape == (2, 3, 2)


def test_meta_device_builds_without_memory():
    model = SpatioTemporalNet(7, 1, "classify", 2, device="meta")
    assert all(t.is_meta for t in list(model.parameters()) + list(model.buffers()))
