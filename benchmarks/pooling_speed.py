"""Speed and memory of attention pooling: the spec's code, PyG, torch.compile, ours, and the floors, side by side.

Usage (from the repository root):

    .venv/bin/python benchmarks/pooling_speed.py                 # CPU, 2 threads, the five shapes of issue 5
    .venv/bin/python benchmarks/pooling_speed.py --quick --out /tmp/q.md   # tiny shapes, a few seconds
    .venv/bin/python benchmarks/pooling_speed.py --device cuda   # on a GPU machine (adds the Triton kernel)

What is measured, for feat ``[N, T, C]`` (fp32, C = 32, hidden 16):

* time: median wall time of forward (under ``torch.no_grad``) and of forward + backward (``out.sum().backward()``
  with ``feat.requires_grad``, parameters included), after warm-up (compilation excluded);
* memory (CPU): peak resident memory of one forward + backward above the memory at its start (after ``feat`` is
  allocated and a tiny warm-up ran), each in its own subprocess; the peak is Linux's ``VmHWM``, reset just before
  the step by writing 5 to ``/proc/self/clear_refs`` (falls back to a ``ru_maxrss`` delta where that is not
  allowed). It includes the gradient of ``feat`` (the same size as ``feat``). On CUDA:
  ``torch.cuda.max_memory_allocated`` above the start, in-process.

It writes a Markdown report (``benchmarks/results/pooling_speed.md`` by default) with the command, the machine,
and the ratios to the spec's code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_SHAPES = [(14, 30, 32), (4096, 30, 32), (65536, 30, 32), (256, 4096, 32), (16, 262144, 32)]
QUICK_SHAPES = [(14, 30, 32), (256, 30, 32), (4, 2048, 32)]
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


def main(argv=None) -> int:
    args = _parse(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["MKL_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    if args.memory_child:
        return _memory_child(args)
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    device = torch.device(args.device)
    load_start = _load()
    rows = []
    for shape in shapes:
        timed = _time_shape(shape, device, args)
        for name in IMPLS:
            row = {"shape": shape, "impl": name}
            row.update(timed[name])
            # --quick: one memory subprocess (ours, first shape) is enough for a smoke test.
            quick_skip = args.quick and (name != "ours (auto)" or shape != shapes[0])
            if not row.get("skip") and "fb_ms" in row and not args.no_memory and not quick_skip:
                row["mem_mb"] = _memory(name, shape, device, args)
            rows.append(row)
            _print_row(row)
    args.load = (load_start, _load())
    text = _report(rows, shapes, args, device)
    # --quick never overwrites the recorded full results: it has a file of its own (git-ignored).
    name = "pooling_speed" + ("_cuda" if device.type == "cuda" else "") + ("_quick" if args.quick else "")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"\nwrote {out}")
    return 0


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny shapes, a few seconds (the CI smoke test)")
    p.add_argument("--threads", type=int, default=2, help="torch/OpenMP threads (default: 2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--shapes", nargs="*", help="override shapes, e.g. 65536,30,32")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per case (default: by size)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile (it takes a while per shape)")
    p.add_argument("--out", default=None, help="report path (default: benchmarks/results/pooling_speed.md)")
    p.add_argument("--memory-child", nargs=2, metavar=("IMPL", "SHAPE"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------- implementations


def _spec_module(channels: int):
    """The spec's module, verbatim in substance (shared/spec/attention-pooling-seed.md)."""
    import torch.nn.functional as F
    from torch import nn

    class SpecAttentionPooling(nn.Module):
        def __init__(self, in_dim=32):
            super().__init__()
            self.attention = nn.Sequential(nn.Linear(in_dim, in_dim // 2), nn.ReLU(), nn.Linear(in_dim // 2, 1))

        def forward(self, feat):  # [B*N, T, C]
            attn_logits = self.attention(feat)  # [B*N, T, 1]
            attn_weights = F.softmax(attn_logits, dim=1)  # [B*N, T, 1]
            return (feat * attn_weights).sum(dim=1)  # [B*N, C]

    return SpecAttentionPooling(channels)


def _build(name: str, shape, device):
    """A callable ``f(feat) -> tensor`` for implementation ``name``, or a string saying why it is skipped."""
    import torch
    from torch import nn

    from attnpool import AttentionPool

    n, t, c = shape
    spec = _spec_module(c).to(device)
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


def _time_shape(shape, device, args) -> dict:
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
        f = _build(name, shape, device)
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


# ------------------------------------------------------------------------------------------------------ memory


def _memory(name, shape, device, args):
    if device.type == "cuda":
        return _cuda_memory(name, shape, device)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--threads", str(args.threads),
           "--memory-child", name, ",".join(map(str, shape))]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        return f"error: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"]


def _memory_child(args) -> int:
    """One forward + backward in a fresh process; prints ``{"peak_mb": ...}`` (peak RSS above the start)."""
    import torch

    name, shape_text = args.memory_child
    shape = tuple(int(v) for v in shape_text.split(","))
    device = torch.device("cpu")
    f = _build(name, shape, device)
    # Warm up on a tiny input (libraries, thread pools, lazy initialisation); torch.compile needs the real shape
    # to compile, so it runs once on it (the peak is reset after it).
    small = shape if name == "torch.compile(spec)" else (min(shape[0], 4), min(shape[1], 30), shape[2])
    warm = f if small == shape else _build(name, small, device)
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

    f = _build(name, shape, device)
    feat = torch.randn(shape, device=device, requires_grad=True)
    f(feat).sum().backward()  # warm-up (and compilation)
    feat.grad = None
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    f(feat).sum().backward()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - start) / 2**20


# ------------------------------------------------------------------------------------------------------ report


def _print_row(row):
    if row.get("skip"):
        print(f"{str(row['shape']):>18} {row['impl']:<28} {row['skip']}", flush=True)
        return
    fwd, fb, mem = row.get("fwd_ms"), row.get("fb_ms"), row.get("mem_mb")
    print(f"{str(row['shape']):>18} {row['impl']:<28} fwd {_ms(fwd):>10}  fwd+bwd {_ms(fb):>10}  mem {_mb(mem):>9}"
          + (f"  (auto chose {row['chose']})" if "chose" in row else ""), flush=True)  # fmt: skip


def _ms(v):
    if v is None:
        return "-"
    return f"{v * 1e3:.0f} us" if v < 1 else f"{v:.1f} ms"


def _mb(v):
    if v is None:
        return "-"
    return v if isinstance(v, str) else f"{v:.0f} MB"


def _ratio(base, v):
    if base is None or v is None or isinstance(base, str) or isinstance(v, str) or v == 0:
        return "-"
    return f"{base / v:.2f}x"


def _load() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def _machine(device) -> list[str]:
    import torch

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = f"{int(open('/proc/meminfo').readline().split()[1]) / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    thp = "unknown"
    try:
        thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
    except OSError:
        pass
    lines = [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores visible, {mem}",
        f"- threads: torch.get_num_threads() = {torch.get_num_threads()}, OMP_NUM_THREADS = {os.environ.get('OMP_NUM_THREADS')}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, {platform.platform()}",
        f"- transparent huge pages: `{thp}`; THP_MEM_ALLOC_ENABLE = {os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}"
        " (the same for every row)",
    ]
    if device.type == "cuda":
        lines.append(f"- GPU: {torch.cuda.get_device_name(device)}")
    else:
        lines.append("- GPU: none on this machine (the CUDA run: `--device cuda`, adds the Triton kernel)")
    try:
        import torch_geometric

        lines.append(f"- torch_geometric {torch_geometric.__version__}")
    except Exception:
        lines.append("- torch_geometric: not installed (`pip install -e '.[bench]'`)")
    return lines


def _report(rows, shapes, args, device) -> str:
    cmd = " ".join([".venv/bin/python", "benchmarks/pooling_speed.py", *(sys.argv[1:] if args is not None else [])])
    out = [
        "# Attention pooling: speed and memory",
        "",
        f"Command: `{cmd}`",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')}; load average (1, 5, 15 min) {args.load[0]} at the start, "
        f"{args.load[1]} at the end (the machine is shared: other processes add noise to every row alike).",
        "",
        *_machine(device),
        "",
        "fp32, C = 32, hidden 16. Times are medians after warm-up (compilation excluded), the implementations",
        "timed round-robin so that load from other processes falls on all alike (calls under a few ms are",
        "timed as blocks of back-to-back calls of about 2 ms, as timeit does, then divided); forward under",
        "`torch.no_grad()`, forward + backward is `out.sum().backward()` with `feat.requires_grad` and the",
        "parameters' gradients. *speed-up* = the spec eager code's time / this row's time (higher is faster).",
        "*peak mem* = peak resident memory of one forward + backward above its start, in a fresh process per",
        "row (Linux VmHWM reset through /proc/self/clear_refs), including the gradient of `feat`",
        "(as large as `feat`).",
        "",
    ]
    for shape in shapes:
        n, t, c = shape
        size_mb = n * t * c * 4 / 2**20
        out += [f"## feat {list(shape)} ({size_mb:.1f} MB)", ""]
        out += ["| implementation | forward | speed-up | forward + backward | speed-up | peak mem fwd+bwd |",
                "|---|---|---|---|---|---|"]  # fmt: skip
        these = [r for r in rows if r["shape"] == shape]
        base = next((r for r in these if r["impl"] == "spec eager"), {})
        for r in these:
            name = r["impl"] + (f" -> {r['chose']}" if "chose" in r else "")
            if r.get("skip"):
                out.append(f"| {name} | {r['skip']} | | | | |")
                continue
            out.append(
                f"| {name} | {_ms(r.get('fwd_ms'))} | {_ratio(base.get('fwd_ms'), r.get('fwd_ms'))} "
                f"| {_ms(r.get('fb_ms'))} | {_ratio(base.get('fb_ms'), r.get('fb_ms'))} | {_mb(r.get('mem_mb'))} |"
            )
        out.append("")
    out += _targets(rows)
    return "\n".join(out) + "\n"


def _targets(rows) -> list[str]:
    """The checks of issue 5, computed from this run (only where the shapes were measured)."""

    def get(shape, impl, key):
        for r in rows:
            if r["shape"] == shape and r["impl"] == impl:
                v = r.get(key)
                return v if isinstance(v, (int, float)) else None
        return None

    lines = ["## Targets of issue 5 (this run)", "", "| target | measured | met |", "|---|---|---|"]
    big, tiny, long = (65536, 30, 32), (14, 30, 32), (16, 262144, 32)
    ours = "ours (auto)"

    def check(label, value, ok, text):
        if value is None:
            lines.append(f"| {label} | not measured | - |")
        else:
            lines.append(f"| {label} | {text} | {'yes' if ok else 'NO'} |")

    s, o, cmp_ = get(big, "spec eager", "fb_ms"), get(big, ours, "fb_ms"), get(big, "torch.compile(spec)", "fb_ms")
    check("fwd+bwd [65536,30,32] >= 3x faster than the spec", s and o and s / o, bool(s and o and s / o >= 3),
          f"{s / o:.2f}x ({s:.0f} vs {o:.0f} ms)" if s and o else "")  # fmt: skip
    check("fwd+bwd [65536,30,32] >= 1.5x faster than torch.compile(spec)", cmp_ and o and cmp_ / o,
          bool(cmp_ and o and cmp_ / o >= 1.5), f"{cmp_ / o:.2f}x ({cmp_:.0f} vs {o:.0f} ms)" if cmp_ and o else "")  # fmt: skip
    s, o = get(big, "spec eager", "fwd_ms"), get(big, ours, "fwd_ms")
    check("forward [65536,30,32] >= 4x faster than the spec", s and o and s / o, bool(s and o and s / o >= 4),
          f"{s / o:.2f}x ({s:.1f} vs {o:.1f} ms)" if s and o else "")  # fmt: skip
    for key, label in (("fwd_ms", "forward"), ("fb_ms", "fwd+bwd")):
        s, o = get(tiny, "spec eager", key), get(tiny, ours, key)
        check(f"{label} [14,30,32] no slower than the spec", s and o and s / o, bool(s and o and o <= s * 1.0),
              f"{s / o:.2f}x ({s * 1e3:.0f} vs {o * 1e3:.0f} us)" if s and o else "")  # fmt: skip
    s, o = get(big, "spec eager", "mem_mb"), get(big, ours, "mem_mb")
    check("peak mem fwd+bwd [65536,30,32] <= 1/2 of the spec's", s and o and o / s, bool(s and o and o <= s / 2),
          f"{o:.0f} MB vs {s:.0f} MB ({o / s:.2f})" if s and o else "")  # fmt: skip
    o = get(long, ours, "mem_mb")
    size = 16 * 262144 * 32 * 4 / 2**20
    check("peak beyond feat's gradient [16,262144,32] <= 10% of feat", o, bool(o is not None and o - size <= 0.1 * size),
          f"{o:.0f} MB - {size:.0f} MB grad = {o - size:.0f} MB = {(o - size) / size:.1%} of feat" if o is not None else "")  # fmt: skip
    return lines + [""]


if __name__ == "__main__":
    sys.exit(main())
