"""The Triton kernels (forward and backward) equal the reference, run on CPU by Triton's interpreter.

``TRITON_INTERPRET=1`` must be set before triton is imported, so the cases run in a subprocess that sets it.
Inputs are tiny: the interpreter executes every program in Python. Skipped only if triton is not importable.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

from .helpers import assert_matches, make_case, run  # noqa: E402


@pytest.fixture(scope="module")
def triton_pool():
    """The module, imported (with triton itself) in interpreter mode by :func:`test_triton_under_interpreter`."""
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("run by test_triton_under_interpreter in a subprocess with TRITON_INTERPRET=1")
    return importlib.import_module("attnpool.kernels.triton_pool")


def test_triton_under_interpreter():
    """Triton reads TRITON_INTERPRET when it is imported and decorates its own library: if anything in this
    process imported triton before, interpreter mode cannot be switched on here. So the cases below run in a
    fresh process with the variable set."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("already inside the interpreter run")
    env = dict(os.environ, TRITON_INTERPRET="1")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(__file__).resolve())],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 6 and "failed" not in summary, proc.stdout[-2000:]


@pytest.mark.parametrize(
    "shape, mask_kind, temperature",
    [((3, 20, 8), "none", 1.0), ((2, 2, 37, 12), "empty", 0.5), ((4, 9, 32), "random", 2.0)],
)
def test_triton_matches_reference(triton_pool, shape, mask_kind, temperature, monkeypatch):
    monkeypatch.setattr(triton_pool, "BLOCK_T", 16)  # several tiles per row, one partial
    pool, feat, mask = make_case(shape, mask_kind=mask_kind, temperature=temperature)
    assert_matches(run(pool, feat, mask, "triton"), run(pool, feat, mask, "reference"), rtol=1e-5)


def test_triton_float64_and_pooled_only_gradient(triton_pool):
    pool, feat, mask = make_case((3, 21, 6), dtype=torch.float64, mask_kind="empty", hidden=3)
    got = run(pool, feat, mask, "triton", grad_weights=False)
    want = run(pool, feat, mask, "reference", grad_weights=False)
    assert_matches(got, want, rtol=1e-10)


def test_triton_gradcheck(triton_pool):
    gen = torch.Generator().manual_seed(5)
    dd = dict(dtype=torch.float64)
    feat = torch.randn(2, 18, 4, generator=gen, **dd).requires_grad_(True)
    params = [
        torch.randn(3, 4, generator=gen, **dd).requires_grad_(True),
        torch.randn(3, generator=gen, **dd).requires_grad_(True),
        torch.randn(1, 3, generator=gen, **dd).requires_grad_(True),
        torch.randn(1, generator=gen, **dd).requires_grad_(True),
    ]
    mask = torch.rand(2, 18, generator=gen) > 0.3

    def f(x, w1, b1, w2, b2):
        return triton_pool.triton_attention_pool(x, mask, w1, b1, w2, b2, 0.9, 16)

    # fast_mode checks random projections of the Jacobian: a few launches instead of one per input.
    assert torch.autograd.gradcheck(f, (feat, *params), eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=True)


def test_block_t_must_be_a_power_of_two(triton_pool):
    with pytest.raises(ValueError, match="block_t"):
        triton_pool.triton_attention_pool(torch.randn(1, 4, 2), None, *[torch.randn(1)] * 4, 1.0, 24)
