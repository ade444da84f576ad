import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import smooth_image

from pydeblur.cli import main
from pydeblur.io import imread, imwrite


def test_psf_command_writes_npy_and_png(tmp_path, capsys):
    npy, png = tmp_path / "k.npy", tmp_path / "k.png"
    assert main(["psf", "motion", "--length", "15", "--angle", "30", "-o", str(npy), "-o", str(png),
                 "--scale", "3"]) == 0
    k = np.load(npy)
    assert k.sum() == pytest.approx(1) and imread(png).shape == (k.shape[0] * 3, k.shape[1] * 3)
    # an existing file is refused (exit code 1) and left alone
    before = npy.read_bytes()
    assert main(["psf", "gaussian", "--sigma", "2", "-o", str(npy)]) == 1
    assert "--overwrite" in capsys.readouterr().err and npy.read_bytes() == before
    assert main(["psf", "gaussian", "--sigma", "2", "-o", str(npy), "--overwrite"]) == 0
    assert np.load(npy).shape == (13, 13)


@pytest.mark.parametrize("family, args", [
    ("gaussian", ["--sigma", "1.5", "--sigma-across", "0.5", "--angle", "20"]),
    ("defocus", ["--radius", "3"]),
    ("trajectory", ["--length", "20", "--seed", "4", "--size", "25"]),
])
def test_psf_families(tmp_path, family, args):
    out = tmp_path / "k.npy"
    assert main(["psf", family, *args, "-o", str(out)]) == 0
    assert np.load(out).sum() == pytest.approx(1)


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["psf", "motion", "-o", "x.npy"])  # --length missing
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "synth" in capsys.readouterr().out


def test_synth_command(tmp_path):
    src = tmp_path / "sharp"
    imwrite(src / "a.png", smooth_image((50, 60, 3), np.float32))
    out = tmp_path / "out"
    assert main(["synth", str(src), str(out), "--per-image", "2", "--families", "defocus",
                 "--max-size", "9", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["psf_family"] for e in manifest] == ["defocus", "defocus"]
    assert main(["synth", str(src), str(src / "inside"), "--no-progress"]) == 1
    assert not (src / "inside").exists()


def test_demo_writes_a_figure(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    figure = imread(tmp_path / "demo.png")
    assert figure.ndim == 3 and figure.shape[1] > 2 * figure.shape[0] - 100
    assert "PSNR" in capsys.readouterr().out


def test_entry_point_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "pydeblur", "--version"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.startswith("pydeblur ")


def test_bench_quality_writes_table_plot_and_montage(tmp_path, capsys):
    from pydeblur import sample_image

    photos = tmp_path / "photos"
    imwrite(photos / "astronaut.png", sample_image("astronaut")[:160, 160:320])
    out = tmp_path / "bench"
    argv = ["bench", "quality", str(photos), "-o", str(out), "--n-images", "1", "--crop", "96",
            "--families", "motion", "gaussian", "--max-size", "9", "--methods", "wiener", "blind",
            "--no-progress"]
    assert main(argv) == 0
    table = (out / "quality.md").read_text()
    for name in ("wiener", "blind", "blurry input", "motion", "gaussian"):
        assert name in table
    rows = json.loads((out / "quality.json").read_text())
    psnr = {(r["method"], r["family"]): r["psnr"] for r in rows}
    assert psnr[("wiener", "motion")] > psnr[("blurry input", "motion")]
    assert imread(out / "montage.png").shape[1] > 3 * 96
    if __import__("importlib").util.find_spec("matplotlib"):
        assert imread(out / "quality.png").ndim == 3
    assert main(argv) == 1 and "--overwrite" in capsys.readouterr().err  # earlier results are kept
    assert main([*argv, "--overwrite", "--blind-prior", "dark_channel"]) == 0
    assert "blind prior dark_channel" in (out / "quality.md").read_text()
    dark = {(r["method"], r["family"]): r["psnr"] for r in json.loads((out / "quality.json").read_text())}
    assert dark[("blind", "motion")] != psnr[("blind", "motion")]
    assert dark[("wiener", "motion")] == psnr[("wiener", "motion")]


def test_bench_speed_prints_ratios(capsys):
    assert main(["bench", "speed", "--size", "64", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for peer in ("cv2.filter2D", "skimage wiener", "skimage richardson_lucy"):
        assert peer in out
    assert out.count("x |") >= 8


def test_train_prior_refuses_an_existing_output(tmp_path, capsys):
    out = tmp_path / "classifier.safetensors"
    out.write_bytes(b"keep")
    assert main(["train-prior", "-o", str(out), "--sharp-dir", str(tmp_path)]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep"


def test_train_init_weights_refuses_a_size_that_changes_widths(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["train", "srn", "-o", str(tmp_path / "x.safetensors"), "--sharp-dir", str(tmp_path),
                 "--init-weights", "srn-small", "--size", "paper"]) == 1
    assert "only adds ResBlocks" in capsys.readouterr().err
