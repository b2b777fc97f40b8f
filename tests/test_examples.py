"""Run every user example on its real data and check what it prints.

Each script runs as a user would run it: in a fresh interpreter, from an
empty working directory (where it writes its files).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Script -> lines its output must contain (each checked as a line prefix).
EXPECTED_LINES = {
    "quickstart.py": ["SFNERegressor: test R2 = ", "Ridge baseline: test R2 = "],
    "pipeline_ridge.py": ["Features given to Ridge: 32", "SFNETransformer + Ridge: test R2 = "],
    "grid_search.py": ["Best hidden_dim: ", "Refitted best model: test R2 = "],
    "deployment_joblib.py": [
        "fresh process predicted 86 rows",
        "Predictions match the original model: True",
    ],
    "categorical_missing.py": [
        "Missing values: {'bill_depth_mm': 35, 'sex': 9}",
        "Prediction for a row with an unseen island and missing values: ",
    ],
    "feature_extraction.py": [
        "Self-supervised features: (240, 6) -> (240, 8)",
        "Logistic regression on 8 SFNE features: test accuracy = ",
    ],
    "training_curve.py": ["Saved training_curve.png"],
    "churn_classifier.py": [
        "Classes: ['No', 'Yes']",
        "SFNEClassifier: test accuracy = ",
        "LogisticRegression: test accuracy = ",
        "Saved churn_calibration.png",
        "Cost threshold: P(churn) > 0.167",
        "Cost per customer: ",
    ],
}

# Files a script leaves in its working directory.
EXPECTED_FILES = {
    "deployment_joblib.py": ["penguins_sfne.joblib"],
    "training_curve.py": ["training_curve.png"],
    "churn_classifier.py": ["churn_calibration.png"],
}


def test_every_example_is_checked():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("spec_")}
    # The spec's own snippets are run by test_examples_spec.py.
    assert scripts == set(EXPECTED_LINES)


def _score(line):
    return float(re.search(r"= (-?\d+\.\d+)", line).group(1))


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED_LINES))
def test_example(script, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.strip() for line in result.stdout.splitlines()]
    for expected in EXPECTED_LINES[script]:
        assert any(line.startswith(expected) for line in lines), (expected, result.stdout[-2000:])
    # The examples are tuned to stop on their own: no "still improving" warning.
    assert "ConvergenceWarning" not in result.stderr, result.stderr[-3000:]
    for name in EXPECTED_FILES.get(script, []):
        assert (tmp_path / name).stat().st_size > 0
    # Scores are printed for people; still, a broken model would show here.
    for line in lines:
        if " R2 = " in line or "accuracy = " in line:
            assert _score(line) > 0.5, line
    if script == "training_curve.py":
        assert (tmp_path / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
