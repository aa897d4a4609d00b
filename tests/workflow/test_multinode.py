"""A multi-node launch as docs/training.md describes it, with both "machines" on this one (two processes started
by hand with NODE_RANK 0 and 1, one device each, gloo over loopback), under a timeout."""

import json
import os
import socket
import subprocess
import sys

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(300)
def test_two_node_launch_writes_one_complete_run(tmp_path):
    run = tmp_path / "mn"
    port = str(_free_port())
    cmd = [sys.executable, "-m", "attnpool", "train", "synthetic:peaks", "--out", str(run), "--encoder", "linear",
           "--data-option", "samples=200", "--epochs", "2", "--batch-size", "32", "--no-progress", "--threads", "1",
           "--accelerator", "cpu", "--devices", "1", "--num-nodes", "2", "--strategy", "ddp"]
    procs = []
    for node in ("1", "0"):  # machine 1 first: it must not take the run directory while it waits for machine 0
        env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE="2",
                   NODE_RANK=node, PYTHONWARNINGS="ignore")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    try:
        outputs = [p.communicate(timeout=280)[0] for p in procs]
    finally:  # one side failing leaves the other waiting for its peer (for 30 minutes): never leave it behind
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    assert "run directory" in outputs[1] and "run directory" not in outputs[0]  # node 0 reports, node 1 is quiet
    assert not (run / "INCOMPLETE").exists() and (run / "model.pt").is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["n"] == 30
    saved = json.loads((run / "config.json").read_text())
    assert saved["num_nodes"] == 2
