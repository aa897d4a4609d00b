"""Faults: real ``attnpool train`` processes killed (SIGKILL, SIGTERM, SIGINT) at several points, a full and a
read-only file system, two writers; then what is left, a retry, ``--resume`` and ``evaluate``.

Each killed process costs one real training start (~5-20 s on a shared 2-core machine); the follow-ups (retry,
resume, evaluate) run in this process through ``attnpool.cli.main``, which is what the ``attnpool`` script calls.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attnpool.cli import main
from attnpool.errors import RunError
from attnpool.workflow import evaluate_run
from attnpool.workflow.rundir import INCOMPLETE_FILE, RunLock

# Small enough to be quick, large enough that an epoch lasts a moment (a kill lands mid-training).
TRAIN = ["synthetic:peaks", "--data-option", "samples=240", "--encoder", "linear", "--batch-size", "16",
         "--no-progress", "--threads", "1", "--seed", "3"]


def cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def start_train(out: Path, *extra) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return subprocess.Popen([sys.executable, "-m", "attnpool", "train", *TRAIN, "--out", str(out), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0, poll: float = 0.01) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended first (rc {proc.returncode}): {proc.stderr.read()[-2000:]}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError("timed out waiting for the process")
        time.sleep(poll)


def handles_sigterm(pid: int) -> bool:
    """True once the process has installed its own SIGTERM handler (attnpool.cli.main has started)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/<pid>/status")
def test_sigint_during_data_load_exits_130_and_leaves_nothing(tmp_path):
    run = tmp_path / "run"
    proc = start_train(run, "--data-option", "samples=20000", "--epochs", "1")
    wait_for(lambda: handles_sigterm(proc.pid), proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    line = one_line(stderr)
    assert "interrupted by SIGINT" in line and "run the same command again" in line
    assert not run.exists()


@pytest.mark.slow
def test_sigterm_mid_training_exits_143_keeps_a_resumable_run(tmp_path):
    run = tmp_path / "run"
    proc = start_train(run, "--epochs", "40", "--patience", "40")
    wait_for(lambda: (run / "checkpoints" / "last.ckpt").exists(), proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr  # Lightning alone turned SIGTERM into exit 0
    line = one_line(stderr)
    assert "interrupted by SIGTERM" in line and f"attnpool train --out {run} --resume" in line
    assert (run / INCOMPLETE_FILE).exists() and not (run / "metrics.json").exists()
    # Nothing trusts the unfinished run.
    with pytest.raises(RunError, match="unfinished run"):
        evaluate_run(run)
    code, _, err = cli("predict", run, "synthetic:peaks", "--out", tmp_path / "p.csv")
    assert code == 2 and "unfinished run" in one_line(err) and not (tmp_path / "p.csv").exists()
    # A different config is refused, naming the key; the run's own config resumes to a complete run.
    code, _, err = cli("train", "--out", run, "--resume", "--epochs", "41")
    assert code == 2 and "differ" in one_line(err) and "epochs" in err
    epochs_before = _logged_epochs(run)
    code, _, err = cli("train", "--out", run, "--resume")
    assert code == 0, err
    assert not (run / INCOMPLETE_FILE).exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] >= max(epochs_before) and evaluate_run(run)["test"] == metrics["test"]
    # Lightning restarts the CSV log on resume: the epochs before the kill are kept beside it.
    assert _logged_epochs(run, "metrics.before-resume-1.csv") == epochs_before
    assert min(_logged_epochs(run)) >= max(epochs_before)


def _logged_epochs(run: Path, name: str = "metrics.csv") -> list[int]:
    rows = (run / "logs" / name).read_text().splitlines()[1:]
    return [int(r.split(",")[0]) for r in rows]


@pytest.mark.slow
def test_sigkill_right_after_model_pt_then_retry_without_overwrite(tmp_path):
    run = tmp_path / "run"
    proc = start_train(run, "--epochs", "2")
    wait_for(lambda: (run / "model.pt").exists(), proc, poll=0.002)
    proc.kill()
    proc.communicate(timeout=60)
    if (run / INCOMPLETE_FILE).exists():  # the usual case: killed before metrics.json and the marker's removal
        code, _, err = cli("evaluate", run)
        assert code == 2 and "unfinished run" in one_line(err)
    else:  # the run had just finished: then it must be whole
        assert json.loads((run / "metrics.json").read_text())["test"]
    assert not list(run.glob("*.tmp*"))
    # The kernel dropped the killed writer's lock; the same command works again without --overwrite.
    code, _, err = cli("train", *TRAIN, "--out", run, "--epochs", "1")
    assert code == 0, err
    assert evaluate_run(run)["test"]["n"] > 0


def test_second_writer_is_refused_with_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with RunLock(run):  # a live writer
        code, _, err = cli("train", *TRAIN, "--out", run, "--epochs", "1")
    assert code == 2
    assert f"{run} is being written by another attnpool train (pid {os.getpid()})" in one_line(err)
    assert sorted(p.name for p in run.iterdir()) == [".lock"]  # the first writer's directory untouched


def test_failed_run_leaves_nothing_and_does_not_block_a_retry(tmp_path):
    run = tmp_path / "run"
    code, _, err = cli("train", *TRAIN, "--out", run, "--epochs", "1", "--lr", "1e30")
    assert code == 2, err
    assert "training diverged" in one_line(err) and "lower --lr" in err
    assert not run.exists()  # no model.pt, no config.json that would block the retry
    code, _, err = cli("train", *TRAIN, "--out", run, "--epochs", "1")
    assert code == 0, err


@pytest.fixture
def small_fs(tmp_path):
    """A 400 KB tmpfs (a checkpoint of the linear model is ~60 KB, model.pt ~20 KB); skipped where mounting is
    not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> None:
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    size = (mnt / "filler").stat().st_size
    os.truncate(mnt / "filler", max(size - leave, 0))


def test_full_disk_is_one_line_and_leaves_no_temp_files(tmp_path, small_fs):
    run = small_fs / "run"
    _fill(small_fs, leave=30_000)  # room for config.json, not for a checkpoint
    code, _, err = cli("train", *TRAIN, "--out", run, "--epochs", "1")
    assert code == 2
    line = one_line(err)
    assert "No space left on device" in line and str(small_fs) in line
    assert not run.exists()
    # predict onto the full disk: one line, no half CSV, no temporary file.
    good = tmp_path / "good"
    assert cli("train", *TRAIN, "--out", good, "--epochs", "1")[0] == 0
    _fill(small_fs, leave=0)
    code, _, err = cli("predict", good, "synthetic:peaks", "--out", small_fs / "p.csv")
    assert code == 2 and "No space left on device" in one_line(err) and f"{small_fs}/p.csv" in err
    assert sorted(p.name for p in small_fs.iterdir()) == ["filler"]


def test_read_only_file_system_is_one_line(tmp_path, small_fs):
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    code, _, err = cli("train", *TRAIN, "--out", small_fs / "run", "--epochs", "1")
    assert code == 2 and "Read-only file system" in one_line(err) and str(small_fs / "run") in err
