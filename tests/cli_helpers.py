"""Helpers of the command-line tests: the CLI as a subprocess and a tiny training budget."""

import os
import subprocess
import sys

TINY = ["--data-option", "samples=240", "--epochs", "3", "--batch-size", "32", "--no-progress", "--threads", "1"]


def attnpool(*args, timeout=300, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "attnpool", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)
