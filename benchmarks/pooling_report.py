"""The Markdown report of benchmarks/pooling_speed.py: tables, the machine, and the targets of issue 5."""

from __future__ import annotations

import os
import platform
import sys
import time


def print_row(row):
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


def load() -> str:
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


def report(rows, shapes, args, device) -> str:
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
