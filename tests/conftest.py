import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny run trained through the command line, shared by a test module: ``(run_dir, process)``."""
    from .cli_helpers import TINY, attnpool

    run = tmp_path_factory.mktemp("runs") / "peaks"
    proc = attnpool("train", "synthetic:peaks", "--out", run, "--encoder", "linear", *TINY)
    assert proc.returncode == 0, proc.stderr
    return run, proc


# Tiny trained runs (classify, per-node regress) shared by the predictor, export and CLI tests.
from .run_fixtures import classify_run, regress_run  # noqa: E402, F401
