"""What benchmarks/pooling_speed.py times: the rows of its tables, each built as a callable ``f(feat)``."""

from __future__ import annotations

from spec_module import SpecAttentionPooling

HIDDEN = 16
# Rows of the table, in order. "ours (auto)" is AttentionPool as users get it (the dispatcher's choice).
IMPLS = [
    "spec eager",
    "PyG AttentionalAggregation",
    "torch.compile(spec)",
    "ours (auto)",
    "ours fused",
    "ours chunked",
    "ours triton",
    "ours reference (eager)",
    "floor: feat.sum()",
    "floor: Linear(32, 16) alone",
]


def build(name: str, shape, device):
    """A callable ``f(feat) -> tensor`` for implementation ``name``, or a string saying why it is skipped."""
    import torch
    from torch import nn

    from attnpool import AttentionPool

    n, t, c = shape
    spec = SpecAttentionPooling(c).to(device)
    if name == "spec eager":
        return spec
    if name == "PyG AttentionalAggregation":
        try:
            from torch_geometric.nn.aggr import AttentionalAggregation
        except Exception:
            return "not installed"
        aggr = AttentionalAggregation(gate_nn=spec.attention).to(device)
        index = torch.arange(n, device=device).repeat_interleave(t)  # step -> its row

        def pyg(feat):
            return aggr(feat.reshape(n * t, c), index, dim_size=n)  # [N*T, C] grouped by row -> [N, C]

        return pyg
    if name == "torch.compile(spec)":
        return torch.compile(spec)
    if name.startswith("ours"):
        impl = {"ours (auto)": "auto", "ours fused": "fused", "ours chunked": "chunked", "ours triton": "triton",
                "ours reference (eager)": "reference"}[name]  # fmt: skip
        if impl == "triton" and device.type != "cuda":
            return "CUDA only (tested on CPU under TRITON_INTERPRET=1)"
        if impl == "triton":
            from attnpool.kernels import triton_available

            if not triton_available():
                return "triton not installed"
        pool = AttentionPool(c, HIDDEN, impl=impl).to(device)
        pool.load_state_dict(spec.state_dict())
        return pool
    if name == "floor: feat.sum()":
        return lambda feat: feat.sum()
    if name == "floor: Linear(32, 16) alone":
        return nn.Linear(c, HIDDEN).to(device)
    raise ValueError(name)
