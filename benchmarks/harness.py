"""Timing and memory measurement for benchmarks/pooling_speed.py (round-robin timing, peak-memory subprocesses)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pooling_impls import IMPLS, build

ROOT = Path(__file__).resolve().parents[1]
#: The script the memory subprocesses run (``--memory-child``).
MAIN = Path(__file__).resolve().with_name("pooling_speed.py")


def _sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _repeats(shape, args) -> int:
    if args.repeats:
        return args.repeats
    if args.quick:
        return 10
    steps = shape[0] * shape[1]
    return 200 if steps < 10_000 else 30 if steps < 200_000 else 7 if steps < 1_000_000 else 5 if steps < 3_000_000 else 3


def time_shape(shape, device, args) -> dict:
    """``{impl: {"fwd_ms", "fb_ms", ...} or {"skip": why}}`` for one shape.

    The implementations are timed round-robin (repeat 1 of each, then repeat 2 of each, ...), so that load
    from other processes on a shared machine falls on every row alike instead of on whichever ran then.
    """
    import torch

    torch.manual_seed(0)
    feat = torch.randn(shape, device=device)
    x = feat.clone().requires_grad_(True)
    results, fns = {}, {}
    for name in IMPLS:
        if name == "torch.compile(spec)" and (args.no_compile or args.quick):
            results[name] = {"skip": "skipped (--quick / --no-compile)"}
            continue
        f = build(name, shape, device)
        if isinstance(f, str):
            results[name] = {"skip": f}
            continue
        results[name] = {}
        if name == "ours (auto)":
            from attnpool.kernels import choose_impl

            results[name]["chose"] = choose_impl(feat, None, f.attention)
        fns[name] = f

    def forward(f):
        with torch.no_grad():
            f(feat)

    def forward_backward(f):
        x.grad = None
        f(x).sum().backward()

    reps = _repeats(shape, args)
    for key, step in (("fwd_ms", forward), ("fb_ms", forward_backward)):
        names = [n for n in fns if not (key == "fb_ms" and n == "floor: feat.sum()")]
        calls = {}
        for name in names:  # warm-up: torch.compile compiles here (one graph per grad mode)
            for _ in range(3):
                step(fns[name])
            _sync(device)
            start = time.perf_counter()
            step(fns[name])
            _sync(device)
            # Calls per timed block: microsecond-scale calls are timed as a block of back-to-back calls
            # (>= ~2 ms), as timeit does, so that the round-robin below does not time each tiny call cold.
            calls[name] = max(1, min(1000, int(2e-3 / max(time.perf_counter() - start, 1e-7))))
        times = {n: [] for n in names}
        for _ in range(reps):
            for name in names:
                start = time.perf_counter()
                for _ in range(calls[name]):
                    step(fns[name])
                _sync(device)
                times[name].append((time.perf_counter() - start) / calls[name])
        for name in names:
            results[name][key] = statistics.median(times[name]) * 1e3
    return results


def memory(name, shape, device, args):
    if device.type == "cuda":
        return _cuda_memory(name, shape, device)
    cmd = [sys.executable, str(MAIN), "--threads", str(args.threads),
           "--memory-child", name, ",".join(map(str, shape))]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        return f"error: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"]


def memory_child(args) -> int:
    """One forward + backward in a fresh process; prints ``{"peak_mb": ...}`` (peak RSS above the start)."""
    import torch

    name, shape_text = args.memory_child
    shape = tuple(int(v) for v in shape_text.split(","))
    device = torch.device("cpu")
    f = build(name, shape, device)
    # Warm up on a tiny input (libraries, thread pools, lazy initialisation); torch.compile needs the real shape
    # to compile, so it runs once on it (the peak is reset after it).
    small = shape if name == "torch.compile(spec)" else (min(shape[0], 4), min(shape[1], 30), shape[2])
    warm = f if small == shape else build(name, small, device)
    if name != "floor: feat.sum()":
        warm(torch.randn(small, requires_grad=True)).sum().backward()
    del warm
    feat = torch.randn(shape).requires_grad_(True)
    method = "VmHWM reset via /proc/self/clear_refs"
    start = _rss_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        peak_of = lambda: _rss_kb("VmHWM")  # noqa: E731
    except OSError:
        import resource

        method = "ru_maxrss delta"
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_of = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # noqa: E731
    if name == "floor: feat.sum()":
        feat.sum()
    else:
        f(feat).sum().backward()
    peak = peak_of()
    print(json.dumps({"peak_mb": (peak - start) / 1024.0, "method": method}))
    return 0


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _cuda_memory(name, shape, device):
    import torch

    f = build(name, shape, device)
    feat = torch.randn(shape, device=device, requires_grad=True)
    f(feat).sum().backward()  # warm-up (and compilation)
    feat.grad = None
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    f(feat).sum().backward()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - start) / 2**20
