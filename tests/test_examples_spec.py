"""Run every spec example script and check what it prints."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

EXPECTED_LINES = {
    "spec_usage.py": ["(100, 8)"],
    "spec_configurations.py": [
        "small_model: (100, 8)",
        "large_model: (100, 8)",
        "same_dim_model: (100, 16)",
    ],
    "spec_preprocessing.py": ["features after preprocessing: 16", "(100, 8)"],
    "spec_feature_extraction.py": ["(100, 32)"],
    "spec_serialization.py": [
        "Loaded model predictions identical: True",
        "Loaded weights predictions identical: True",
    ],
}


def test_every_spec_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("spec_*.py")) == sorted(EXPECTED_LINES)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED_LINES))
def test_spec_example(script, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,  # the scripts write their files to the current directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.strip() for line in result.stdout.splitlines()]
    for expected in EXPECTED_LINES[script]:
        assert any(line.startswith(expected) for line in lines), (expected, result.stdout[-2000:])
    # Nothing traces a tf.function again and again.
    assert "retracing" not in result.stderr, result.stderr[-3000:]
    if script == "spec_serialization.py":
        assert (tmp_path / "sfne_block_model.keras").is_file()
        assert (tmp_path / "sfne_block_weights.h5").is_file()
