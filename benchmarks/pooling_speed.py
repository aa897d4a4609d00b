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

Layout: this file is the command line; :mod:`pooling_impls` builds what is timed (the spec's module comes
from :mod:`spec_module`, shared with the tests), :mod:`harness` times and measures memory, :mod:`pooling_report`
writes the report and checks the targets of issue 5.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness import memory, memory_child, time_shape
from pooling_impls import IMPLS
from pooling_report import load, print_row, report

ROOT = Path(__file__).resolve().parents[1]
FULL_SHAPES = [(14, 30, 32), (4096, 30, 32), (65536, 30, 32), (256, 4096, 32), (16, 262144, 32)]
QUICK_SHAPES = [(14, 30, 32), (256, 30, 32), (4, 2048, 32)]


def main(argv=None) -> int:
    args = _parse(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["MKL_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    if args.memory_child:
        return memory_child(args)
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    device = torch.device(args.device)
    load_start = load()
    rows = []
    for shape in shapes:
        timed = time_shape(shape, device, args)
        for name in IMPLS:
            row = {"shape": shape, "impl": name}
            row.update(timed[name])
            # --quick: one memory subprocess (ours, first shape) is enough for a smoke test.
            quick_skip = args.quick and (name != "ours (auto)" or shape != shapes[0])
            if not row.get("skip") and "fb_ms" in row and not args.no_memory and not quick_skip:
                row["mem_mb"] = memory(name, shape, device, args)
            rows.append(row)
            print_row(row)
    args.load = (load_start, load())
    text = report(rows, shapes, args, device)
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


if __name__ == "__main__":
    sys.exit(main())
