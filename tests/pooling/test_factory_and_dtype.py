"""Factory keywords (device=, dtype=) on every pooling, and the one dtype rule of pooling/base.py on every path."""

import pytest
import torch

from attnpool import AttentionPool, make_pool
from attnpool.pooling import POOLS

WITH_PARAMS = ["attention", "gated", "multihead"]
PARAMETER_FREE = ["mean", "max", "last"]


@pytest.mark.parametrize("name", list(POOLS))
def test_dtype_keyword_sets_the_parameters_dtype(name):
    pool = make_pool(name, 8, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in pool.parameters())
    out, weights = pool(torch.randn(2, 5, 8, dtype=torch.float64), return_weights=True)
    assert out.dtype == torch.float64 and weights.dtype == torch.float64


@pytest.mark.parametrize("name", list(POOLS))
def test_device_keyword_places_the_parameters(name):
    pool = make_pool(name, 8, device="meta")  # a device every machine has, without allocating
    assert all(p.device.type == "meta" for p in pool.parameters())
    assert all(p.device.type == "cpu" for p in make_pool(name, 8, device="cpu").parameters())


@pytest.mark.parametrize("name", list(POOLS))
def test_non_floating_dtype_keyword_is_refused(name):
    with pytest.raises(TypeError, match=r"dtype must be a floating torch.dtype \(or None\), got torch.int64"):
        make_pool(name, 8, dtype=torch.int64)


@pytest.mark.parametrize("name", list(POOLS))
def test_non_floating_feat_is_refused(name):
    with pytest.raises(TypeError, match=r"feat must be a floating tensor.*got dtype torch.int32"):
        make_pool(name, 8)(torch.ones(2, 3, 8, dtype=torch.int32))


MISMATCH = r"feat must have the dtype of {}'s parameters \(torch.float32\), got torch.float16; cast the input"


@pytest.mark.parametrize("name", WITH_PARAMS)
def test_feat_of_another_dtype_than_the_parameters_is_one_clear_error(name):
    pool = make_pool(name, 8)
    with pytest.raises(TypeError, match=MISMATCH.format(type(pool).__name__)):
        pool(torch.randn(2, 3, 8, dtype=torch.float16))


@pytest.mark.parametrize("impl", ["auto", "reference", "small", "fused", "chunked"])
@pytest.mark.parametrize("shape", [(14, 30, 8), (2, 3, 30, 8), (100, 30, 8)], ids=["tiny", "tiny-4d", "fused"])
@pytest.mark.parametrize("masked", [False, True])
def test_every_attention_path_gives_the_same_dtype_error(impl, shape, masked):
    if impl == "small" and masked:
        pytest.skip("the small path takes no mask")
    pool = AttentionPool(8, impl=impl)
    feat = torch.randn(shape, dtype=torch.float16)
    mask = torch.ones(shape[:-1], dtype=torch.bool) if masked else None
    with pytest.raises(TypeError, match=MISMATCH.format("AttentionPool")):
        pool(feat, mask=mask)


@pytest.mark.parametrize("name", PARAMETER_FREE)
def test_parameter_free_poolings_compute_in_feats_dtype(name):
    pool = make_pool(name, 8, dtype=torch.float64)  # accepted (one constructor for all), nothing to convert
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        out, weights = pool(torch.randn(2, 3, 8).to(dtype), return_weights=True)
        assert out.dtype == dtype and weights.dtype == dtype


def test_triton_on_a_cpu_tensor_says_what_it_needs(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    pool = AttentionPool(8, impl="triton")
    with pytest.raises(ValueError, match=r"impl='triton' needs feat on a CUDA device .*got feat on cpu; use impl='auto'"):
        pool(torch.randn(2, 3, 8))


def test_small_path_refuses_a_mask_when_forced():
    pool = AttentionPool(8, impl="small")
    with pytest.raises(ValueError, match=r"impl='small' pools unmasked inputs only, got a mask"):
        pool(torch.randn(2, 3, 8), mask=torch.ones(2, 3, dtype=torch.bool))
