"""The dispatcher picks an implementation by device, dtype and size; 'auto' pooling equals the reference."""

import pytest
import torch

from attnpool import AttentionPool
from attnpool.kernels import attention_pool_kernel, choose_impl
from attnpool.kernels import dispatch as dispatch_mod

from .helpers import assert_matches, make_case, run


def _choice(shape, dtype=torch.float32):
    pool = AttentionPool(shape[-1]).to(dtype)
    return choose_impl(torch.empty(shape, dtype=dtype), None, pool.attention)


def test_tiny_inputs_stay_on_the_reference():
    assert _choice((14, 30, 32)) == "small"  # plain aten calls, unmasked
    assert _choice((2, 7, 30, 32)) == "reference"  # tiny with leading axes


def test_cpu_picks_fused_for_many_rows_and_chunked_for_long_rows():
    assert _choice((4096, 30, 32)) == "fused"
    assert _choice((2, 4, 30, 32)) == "reference"  # 240 steps: tiny
    assert _choice((256, 4096, 32)) == "fused"
    assert _choice((16, 262144, 32)) == "fused"
    assert _choice((1, dispatch_mod.CHUNKED_MIN_STEPS + 1, 2)) == "chunked"
    assert _choice((4096, 30, 32), torch.float64) == "fused"


def test_parameters_of_another_dtype_fall_back_to_the_reference():
    pool = AttentionPool(32)  # float32 parameters
    assert choose_impl(torch.empty(4096, 30, 32, dtype=torch.float64), None, pool.attention) == "reference"


def test_forced_kernel_with_mismatched_dtype_says_what_is_wrong():
    pool = AttentionPool(8)
    with pytest.raises(TypeError, match="dtype"):
        attention_pool_kernel("fused", torch.randn(2, 3, 8, dtype=torch.float64), pool.attention, None, 1.0)
    with pytest.raises(ValueError, match="impl"):
        attention_pool_kernel("nope", torch.randn(2, 3, 8), pool.attention, None, 1.0)


def test_auto_matches_reference_where_it_picks_fused():
    pool, feat, mask = make_case((80, 30, 16), mask_kind="empty")
    assert choose_impl(feat, mask, pool.attention) == "fused"
    assert_matches(run(pool, feat, mask, "auto"), run(pool, feat, mask, "reference"), rtol=1e-5)


def test_dropout_in_training_uses_the_reference():
    pool = AttentionPool(8, dropout=0.5, impl="fused").train()
    torch.manual_seed(0)
    out = pool(torch.randn(3, 10, 8))
    torch.manual_seed(0)
    ref = pool.reference(torch.randn(3, 10, 8))[0]
    torch.testing.assert_close(out, ref)


def test_auto_compiles_fullgraph_through_the_reference():
    torch._dynamo.reset()
    pool = AttentionPool(16)
    feat = torch.randn(200, 30, 16)
    assert choose_impl(feat, None, pool.attention) == "fused"
    compiled = torch.compile(pool, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(feat), pool(feat), rtol=1e-5, atol=1e-6)


def test_tiny_unmasked_inputs_take_the_small_path_and_match():
    pool, feat, _ = make_case((14, 30, 32), temperature=0.5)
    assert choose_impl(feat, None, pool.attention) == "small"
    assert choose_impl(feat, torch.ones(14, 30, dtype=torch.bool), pool.attention) == "reference"
    assert_matches(run(pool, feat, None, "auto"), run(pool, feat, None, "reference"), rtol=1e-5)


def test_every_tracer_and_transform_routes_to_the_reference():
    pool = AttentionPool(16)
    feat = torch.randn(200, 30, 16)
    assert choose_impl(feat, None, pool.attention) == "fused" and not dispatch_mod.must_use_reference()
    seen = []

    def record(x):
        seen.append(choose_impl(x, None, pool.attention))
        return x.sum(-1)

    torch.jit.trace(record, (feat,), check_trace=False)
    torch.func.vmap(record)(feat.unsqueeze(0))
    torch.func.grad(lambda x: record(x).sum())(feat)

    class Record(torch.nn.Module):
        def forward(self, x):
            return record(x)

    torch.export.export(Record(), (feat,))  # also covers torch.compile and the dynamo ONNX exporter
    assert seen == ["reference"] * 4


def test_one_list_of_implementations():
    from attnpool.kernels import IMPLEMENTATIONS, KERNELS
    from attnpool.pooling.attention import IMPLS

    assert IMPLS == ("auto", *IMPLEMENTATIONS)
    assert set(KERNELS) == set(IMPLEMENTATIONS) - {"reference"}
    for impl in IMPLEMENTATIONS:
        AttentionPool(8, impl=impl)  # every listed implementation is accepted by the module
