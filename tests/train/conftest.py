"""Fixtures of the training tests: one tiny trained run shared by a test module."""

import pytest

from .helpers import TINY, attnpool


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "peaks"
    proc = attnpool("train", "synthetic:peaks", "--out", run, "--encoder", "linear", *TINY)
    assert proc.returncode == 0, proc.stderr
    return run, proc
