"""Every pooling works in the PyTorch tool chain at every size, because the fast paths step aside.

Rows: torch.jit.trace (with its default check_trace) + save/load, torch.jit.script (refused with a clear
message), torch.onnx.export (legacy and dynamo) run in onnxruntime with a mask input and another batch size
and T than exported, torch.export.export, torch.func.vmap, torch.func.grad. For AttentionPool each row runs at
a size the dispatcher sends (in eager mode) to the tiny path ("small", or "reference" when masked), to
"fused" and to "chunked", with the thresholds and block sizes shrunk so that the inputs stay tiny; the
result is compared with eager mode (which runs that fast path).
"""

from __future__ import annotations

import io

import pytest
import torch

from attnpool import AttentionPool, make_pool
from attnpool.kernels import choose_impl
from attnpool.kernels import chunked as chunked_mod
from attnpool.kernels import dispatch as dispatch_mod
from attnpool.kernels import fused as fused_mod
from attnpool.pooling import POOLS

C = 8
#: Input shape per path, with the thresholds that :func:`paths` sets (MIN_FUSED_STEPS 64, CHUNKED_MIN_STEPS 24).
SHAPES = {"tiny": (3, 12, C), "fused": (6, 20, C), "chunked": (3, 30, C)}
#: Another batch size and T than any exported shape, for the exported files' dynamic axes.
OTHER_SHAPE = (4, 37, C)
TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture
def paths(monkeypatch):
    """Thresholds shrunk so that tiny inputs reach every path, and blocks small so that each runs several."""
    monkeypatch.setattr(dispatch_mod, "MIN_FUSED_STEPS", 64)
    monkeypatch.setattr(dispatch_mod, "CHUNKED_MIN_STEPS", 24)
    monkeypatch.setattr(fused_mod, "DEFAULT_BLOCK_STEPS", 40)
    monkeypatch.setattr(chunked_mod, "DEFAULT_CHUNK_STEPS", 7)


class WithMask(torch.nn.Module):
    """``(feat, mask) -> (pooled, weights)``: a fixed signature for tracers and exporters."""

    def __init__(self, pool):
        super().__init__()
        self.pool = pool

    def forward(self, feat, mask):
        return self.pool(feat, mask=mask, return_weights=True)


class NoMask(WithMask):
    def forward(self, feat):
        return self.pool(feat, return_weights=True)


def _inputs(shape, seed=0):
    gen = torch.Generator().manual_seed(seed)
    feat = torch.randn(shape, generator=gen)
    mask = torch.rand(shape[:-1], generator=gen) > 0.3
    mask[0] = False  # one all-masked row
    mask[1, 0] = True
    return feat, mask


def _attention(path):
    """An AttentionPool whose eager call on ``SHAPES[path]`` takes ``path`` (unmasked: "small" when tiny)."""
    torch.manual_seed(0)
    pool = AttentionPool(C, temperature=0.7)
    feat, mask = _inputs(SHAPES[path])
    expected = {"tiny": "small"}.get(path, path)
    assert choose_impl(feat, None, pool.attention) == expected
    if path != "tiny":
        assert choose_impl(feat, mask, pool.attention) == path
    return pool, feat, mask


def _pool(name):
    torch.manual_seed(0)
    return make_pool(name, C)


def _close(got, want):
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, **TOL)


def _cases():
    """(label, factory) pairs: AttentionPool at each path, then every other pooling at one size."""
    cases = [(f"attention-{path}", path) for path in SHAPES]
    cases += [(name, None) for name in POOLS if name != "attention"]
    return cases


CASES = _cases()
IDS = [label for label, _ in CASES]


def _build(label, path):
    if path is not None:
        return _attention(path)
    feat, mask = _inputs(SHAPES["fused"])
    return _pool(label), feat, mask


# ------------------------------------------------------------------------------------------------- TorchScript


@pytest.mark.parametrize("label, path", CASES, ids=IDS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_jit_trace_checks_and_saves(paths, label, path, masked):
    pool, feat, mask = _build(label, path)
    model, args = (WithMask(pool), (feat, mask)) if masked else (NoMask(pool), (feat,))
    eager = model(*args)
    traced = torch.jit.trace(model, args)  # check_trace=True: re-traces and compares with eager
    _close(traced(*args), eager)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer)
    _close(loaded(*args), eager)
    other, other_mask = _inputs(OTHER_SHAPE[:1] + SHAPES["fused"][1:], seed=1)  # another batch size
    other_args = (other, other_mask) if masked else (other,)
    _close(loaded(*other_args), model(*other_args))


@pytest.mark.parametrize("name", list(POOLS))
def test_jit_script_is_refused_with_a_clear_message(name):
    with pytest.raises(RuntimeError, match=r"cannot be compiled by torch.jit.script: forward returns a tensor or"):
        torch.jit.script(make_pool(name, C))
    with pytest.raises(RuntimeError, match=r"Use torch.jit.trace"):
        torch.jit.script(WithMask(make_pool(name, C)))  # also when the pooling is inside a model


# ------------------------------------------------------------------------------------------------------- ONNX


def _onnxruntime(model_bytes, feeds):
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == list(feeds), f"ONNX inputs {names}, expected {list(feeds)}"
    return [torch.from_numpy(out) for out in session.run(None, {k: v.numpy() for k, v in feeds.items()})]


@pytest.mark.parametrize("label, path", CASES, ids=IDS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_onnx_legacy_export_runs_in_onnxruntime_at_other_shapes(paths, label, path, masked):
    pytest.importorskip("onnx")
    pool, feat, mask = _build(label, path)
    model = WithMask(pool) if masked else NoMask(pool)
    args = (feat, mask) if masked else (feat,)
    names = ["feat", "mask"][: len(args)]
    axes = {"feat": {0: "batch", 1: "steps"}, "mask": {0: "batch", 1: "steps"}}
    buffer = io.BytesIO()
    torch.onnx.export(model, args, buffer, dynamo=False, input_names=names, output_names=["pooled", "weights"],
                      dynamic_axes={k: axes[k] for k in names})  # fmt: skip
    other, other_mask = _inputs(OTHER_SHAPE, seed=2)
    feeds = {"feat": other, "mask": other_mask} if masked else {"feat": other}
    _close(_onnxruntime(buffer.getvalue(), feeds), model(*feeds.values()))


@pytest.mark.parametrize("label, path", [("attention-fused", "fused"), *[(n, None) for n in POOLS if n != "attention"]],
                         ids=["attention-fused", *[n for n in POOLS if n != "attention"]])  # fmt: skip
def test_onnx_dynamo_export_runs_in_onnxruntime_at_other_shapes(paths, label, path):
    # The dynamo exporter is slow (seconds per model): one size per pooling, masked. It runs through
    # torch.export, which the rows below test at every path.
    pytest.importorskip("onnxscript")
    pool, feat, mask = _build(label, path)
    model = WithMask(pool)
    auto = torch.export.Dim.AUTO
    program = torch.onnx.export(model, (feat, mask), dynamo=True, verbose=False, input_names=["feat", "mask"],
                                output_names=["pooled", "weights"],
                                dynamic_shapes=({0: auto, 1: auto}, {0: auto, 1: auto}))  # fmt: skip
    other, other_mask = _inputs(OTHER_SHAPE, seed=3)
    got = _onnxruntime(program.model_proto.SerializeToString(), {"feat": other, "mask": other_mask})
    _close(got, model(other, other_mask))


# ---------------------------------------------------------------------------------------- export, vmap, grad


@pytest.mark.parametrize("label, path", CASES, ids=IDS)
def test_torch_export(paths, label, path):
    pool, feat, mask = _build(label, path)
    model = WithMask(pool)
    exported = torch.export.export(model, (feat, mask))
    _close(exported.module()(feat, mask), model(feat, mask))
    unmasked = torch.export.export(NoMask(pool), (feat,))
    _close(unmasked.module()(feat), NoMask(pool)(feat))


@pytest.mark.parametrize("label, path", CASES, ids=IDS)
def test_vmap(paths, label, path):
    pool, feat, mask = _build(label, path)
    feats = torch.stack([feat, feat.flip(0) * 0.5])  # [2, N, T, C]: vmap over the first axis
    masks = torch.stack([mask, mask.flip(0)])
    got = torch.func.vmap(lambda f: pool(f, return_weights=True))(feats)
    _close(got, [torch.stack(x) for x in zip(*(pool(f, return_weights=True) for f in feats))])
    got = torch.func.vmap(lambda f, m: pool(f, mask=m, return_weights=True))(feats, masks)
    _close(got, [torch.stack(x) for x in zip(*(pool(f, mask=m, return_weights=True) for f, m in zip(feats, masks)))])


@pytest.mark.parametrize("label, path", CASES, ids=IDS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_func_grad(paths, label, path, masked):
    pool, feat, mask = _build(label, path)
    mask = mask if masked else None
    weight = torch.linspace(-1, 1, C)
    params = {k: v.detach() for k, v in pool.named_parameters()}

    def loss(p, x):
        pooled, weights = torch.func.functional_call(pool, p, (x,), {"mask": mask, "return_weights": True})
        return (pooled * weight).sum() + (weights * weights).sum()

    got_params, got_feat = torch.func.grad(loss, argnums=(0, 1))(params, feat)
    x = feat.clone().requires_grad_(True)
    pool.zero_grad(set_to_none=True)
    pooled, weights = pool(x, mask=mask, return_weights=True)  # eager: the fast path's own backward
    ((pooled * weight).sum() + (weights * weights).sum()).backward()
    torch.testing.assert_close(got_feat, x.grad, **TOL)
    for name, value in pool.named_parameters():
        torch.testing.assert_close(got_params[name], value.grad, **TOL)


@pytest.mark.parametrize("impl", ["small", "fused", "chunked"])
def test_forced_kernels_step_aside_too(impl):
    torch.manual_seed(0)
    pool = AttentionPool(C, impl=impl)
    feat = torch.randn(3, 12, C)
    want = pool.reference(feat)
    _close(torch.func.vmap(lambda f: pool(f, return_weights=True))(feat.unsqueeze(0)), [w.unsqueeze(0) for w in want])
    _close(torch.jit.trace(NoMask(pool), (feat,))(feat), want)
    grad = torch.func.grad(lambda x: pool(x).sum())(feat)
    x = feat.clone().requires_grad_(True)
    pool.reference(x)[0].sum().backward()
    torch.testing.assert_close(grad, x.grad, **TOL)
