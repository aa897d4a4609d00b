"""Bad inputs through the command line: every case of tools/bad_input_campaign.py (about 260, ~20 s).

Every case must end with exit code 2 and one ``attnpool:`` line (or argparse's usage error), no traceback,
no NaN or inf written into any output: values beyond float32, labels, CSV cells, options, configs, run
directories and model files, through every reader and verb. The script prints the same table by hand.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("lightning")

ROOT = Path(__file__).resolve().parents[1]


def _campaign():
    spec = importlib.util.spec_from_file_location("bad_input_campaign", ROOT / "tools" / "bad_input_campaign.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bad_input_campaign", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_bad_input_is_a_one_line_error(tmp_path):
    campaign = _campaign()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        campaign.prepare(tmp_path)
        cases = campaign.build_cases(tmp_path)
        assert len(cases) >= 150
        results = list(campaign.run_cases(tmp_path, cases, timeout=120))
    bad = [f"{name}: exit {code}, {outcome}: {message[:200]}" for name, code, outcome, message, _ in results
           if outcome != "one-line error"]
    assert not bad, "\n".join(bad)
    assert len(results) == len(cases)


def test_classify_tells_the_outcomes_apart():
    classify = _campaign().classify
    assert classify("x", 2, "attnpool: error: x is bad\n", "", []) == "one-line error"
    assert classify("x", 2, "usage: attnpool ...\nattnpool: error: bad flag\n", "", []) == "one-line error"
    assert classify("x", 1, "Traceback (most recent call last):\n", "tb", []) == "traceback"
    assert classify("x", 0, "", "", []) == "silent (exit 0 or NaN written)"
    assert classify("x", 2, "attnpool: error: a\n", "", ["p.csv"]) == "silent (exit 0 or NaN written)"
    assert classify("x", None, "", "", []) == "hang"
    assert classify("x", 2, "attnpool: one\nattnpool: two\n", "", []) == "other"
