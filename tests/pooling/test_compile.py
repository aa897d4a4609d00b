"""AttentionPool compiles with torch.compile(fullgraph=True): no graph breaks, masked or not.

torch.jit.script is deprecated in favour of torch.compile/torch.export, so we test the latter. The
"eager" backend checks graph capture (what fullgraph guarantees) without paying for code generation;
the inductor-compiled speed is measured in benchmarks/pooling_speed.py.
"""

import torch
import torch._dynamo

from attnpool import AttentionPool


def test_compile_fullgraph_without_graph_breaks():
    torch._dynamo.reset()
    pool = AttentionPool(32, impl="reference")
    compiled = torch.compile(pool, fullgraph=True, backend="eager")
    feat = torch.randn(14, 30, 32)
    mask = torch.rand(14, 30) > 0.2
    torch.testing.assert_close(compiled(feat), pool(feat))
    out, w = compiled(feat, mask=mask, return_weights=True)
    ref_out, ref_w = pool(feat, mask=mask, return_weights=True)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(w, ref_w)
    explanation = torch._dynamo.explain(pool)(feat, mask)
    assert explanation.graph_break_count == 0
