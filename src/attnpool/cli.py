"""The ``attnpool`` command: ``attnpool <verb> ...``.

Every user error exits non-zero with one line on stderr (``attnpool: error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys


class UserError(Exception):
    """An error in what the user gave (a path, a shape, an option): shown as one line, exit code 2."""


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (default: 2). With 2 cores, torch's default fights any other busy
    process; a deliberate count keeps epochs from slowing by orders of magnitude."""
    import torch

    if threads is None:
        threads = int(os.environ.get("ATTNPOOL_THREADS", "2"))
    if threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attnpool", description="Attention pooling over time for multi-node time series.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True

    demo = sub.add_parser("demo", help="the spec's walkthrough and the main job on an embedded default")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--walkthrough-only", action="store_true", help="only replay the spec's walkthrough")
    demo.add_argument("--threads", type=int, default=None, help="torch threads (default: 2)")
    demo.add_argument("--out", default=None, help="run directory for the demo's training (default: a temp dir)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _cmd_demo(args) -> int:
    set_threads(args.threads)
    from .walkthrough import walkthrough

    walkthrough(seed=args.seed)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"attnpool: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, KeyError) as err:
        # Errors raised by our own checks carry a message written for the user.
        print(f"attnpool: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("attnpool: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
