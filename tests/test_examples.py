"""Every script in examples/ runs and writes its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

from pydeblur.io import imread

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FIGURES = {
    "psf_gallery.py": "psf_gallery.png",
    "non_blind.py": "non_blind.png",
    "blind.py": "blind.png",
    "synthesize_dataset.py": "dataset.png",
    "train_network.py": "train_network.png",
    "restore_folder.py": "restore_folder.png",
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(FIGURES)


@pytest.mark.parametrize("script", sorted(FIGURES))
def test_example_runs_and_writes_its_figure(script, tmp_path):
    if script == "train_network.py":
        pytest.importorskip("torch")
    result = subprocess.run([sys.executable, str(EXAMPLES / script), str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figure = imread(tmp_path / FIGURES[script])
    assert figure.ndim == 3 and figure.shape[1] > 100
    assert "wrote" in result.stdout
