"""``pydeblur restore``: methods, bit depth, overwrite safety, exit codes, JSON, figures."""

import json

import numpy as np
import pytest

from pydeblur import psf, sample_image
from pydeblur.cli import main
from pydeblur.io import image_info, imread, imwrite
from pydeblur.metrics import psnr
from pydeblur.synth import degrade

KERNEL = psf.motion(9, 30)


@pytest.fixture()
def folder(tmp_path):
    sharp = sample_image("astronaut", dtype=np.float64)[0:160, 150:310]
    blurry, target, _ = degrade(sharp, psf=KERNEL, noise_sigma=0.002, rng=0)
    imwrite(tmp_path / "in" / "a.png", blurry)
    imwrite(tmp_path / "in" / "b.png", blurry, bit_depth=16)
    np.save(tmp_path / "k.npy", KERNEL)
    return tmp_path, target


def test_non_blind_restores_a_folder_keeping_bit_depth(folder):
    tmp, target = folder
    code = main(["restore", str(tmp / "in"), "-o", str(tmp / "out"), "--method", "wiener",
                 "--psf", str(tmp / "k.npy"), "--no-progress", "--compare", str(tmp / "cmp.png")])
    assert code == 0
    assert image_info(tmp / "out" / "a.png")["bit_depth"] == 8
    assert image_info(tmp / "out" / "b.png")["bit_depth"] == 16
    blurry = imread(tmp / "in" / "b.png")
    assert psnr(imread(tmp / "out" / "b.png"), target) > psnr(blurry, target) + 1
    assert imread(tmp / "cmp_a.png").shape[1] > 2 * 152


def test_psf_spec_equals_psf_file(folder):
    tmp, _ = folder
    common = [str(tmp / "in" / "a.png"), "--method", "hyper-laplacian", "--no-progress"]
    assert main(["restore", *common, "-o", str(tmp / "f.png"), "--psf", str(tmp / "k.npy")]) == 0
    assert main(["restore", *common, "-o", str(tmp / "s.png"), "--psf", "motion:length=9,angle=30"]) == 0
    np.testing.assert_array_equal(imread(tmp / "f.png"), imread(tmp / "s.png"))


def test_inputs_and_existing_outputs_are_never_overwritten(folder, capsys):
    tmp, _ = folder
    a = tmp / "in" / "a.png"
    before = a.read_bytes()
    assert main(["restore", str(a), "-o", str(a), "--method", "wiener", "--psf", "motion:length=9"]) == 1
    assert "is an input" in capsys.readouterr().err and a.read_bytes() == before
    out = tmp / "o.png"
    out.write_bytes(b"keep")
    assert main(["restore", str(a), "-o", str(out), "--method", "wiener", "--psf", "motion:length=9"]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep"
    assert main(["restore", str(a), "-o", str(out), "--method", "wiener", "--psf", "motion:length=9",
                 "--overwrite", "--no-progress"]) == 0
    assert imread(out).shape == (152, 152, 3)


def test_json_report_and_partial_failure_exit_code(folder, capsys):
    tmp, _ = folder
    (tmp / "in" / "broken.png").write_bytes(b"not a png")
    code = main(["restore", str(tmp / "in"), "-o", str(tmp / "out"), "--method", "blind", "--psf-size", "9",
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and report["failed"] == 1
    status = {r["input"].rsplit("/", 1)[-1]: r["status"] for r in report["results"]}
    assert status == {"a.png": "ok", "b.png": "ok", "broken.png": "failed"}
    confidences = [r["psf_confidence"] for r in report["results"] if r["status"] == "ok"]
    assert len(confidences) == 2 and all(0 <= c <= 1 for c in confidences)
    from pydeblur.blind._deblur import resolve_final_step

    steps = {r["final_step"] for r in report["results"] if r["status"] == "ok"}
    assert steps == {resolve_final_step("auto")}


def test_blind_table_shows_the_confidence_and_an_untrusted_kernel_keeps_the_input(folder, capsys):
    tmp, _ = folder
    rng = np.random.default_rng(0)
    noisy, _, _ = degrade(rng.random((206, 206)), psf=psf.motion(15, 30), noise_sigma=0.05, rng=1)
    source = tmp / "noise.png"
    imwrite(source, noisy, bit_depth=16)
    with pytest.warns(UserWarning, match="returning the input unchanged"):
        code = main(["restore", str(source), "-o", str(tmp / "kept.png"), "--method", "blind",
                     "--psf-size", "15", "--no-progress"])
    table = capsys.readouterr().out
    assert code == 0 and "confidence" in table.splitlines()[0]
    assert "unreliable" in table and "the input is returned unchanged" in table
    kept, original = (imread(p, dtype=np.float64) for p in (tmp / "kept.png", source))
    np.testing.assert_array_equal(kept, original)
    with pytest.warns(UserWarning, match="restoring anyway"):
        assert main(["restore", str(source), "-o", str(tmp / "anyway.png"), "--method", "blind",
                     "--psf-size", "15", "--fallback", "restore", "--no-progress"]) == 0
    assert "the photo is restored anyway" in capsys.readouterr().out
    assert not np.array_equal(imread(tmp / "anyway.png", dtype=np.float64), original)


def test_blind_final_step_option_reaches_the_deblurrer(folder):
    pytest.importorskip("torch")
    tmp, _ = folder
    outputs = {}
    for step in ("hyper_laplacian", "plug_and_play"):
        assert main(["restore", str(tmp / "in" / "a.png"), "-o", str(tmp / f"{step}.png"),
                     "--method", "blind", "--psf-size", "9", "--final-step", step, "--no-progress"]) == 0
        outputs[step] = imread(tmp / f"{step}.png", dtype=np.float64)
    assert not np.allclose(outputs["hyper_laplacian"], outputs["plug_and_play"])


@pytest.mark.parametrize("argv, message", [
    (["--method", "wiener"], "needs the PSF"),
    (["--method", "blind", "--psf", "motion:length=9"], "takes no PSF"),
    (["--method", "wiener", "--psf", "motion:length=9", "--tile", "64"], "--tile"),
    (["--method", "wiener", "--psf", "motion:length=9", "--compile"], "--compile"),
    (["--method", "wiener", "--psf", "motion:size=9"], "length"),
    (["--method", "wiener", "--psf", "spiral:turns=3"], "neither a file nor a spec"),
    (["--method", "hyper-laplacian", "--psf", "motion:length=9", "--prior", "l0"], "--prior"),
    (["--method", "wiener", "--psf", "motion:length=9", "--final-step", "fusion"], "--final-step"),
])
def test_bad_options_fail_with_a_clear_message(folder, capsys, argv, message):
    tmp, _ = folder
    assert main(["restore", str(tmp / "in" / "a.png"), "-o", str(tmp / "x.png"), *argv]) == 2  # usage
    assert message in capsys.readouterr().err
    assert not (tmp / "x.png").exists()


def test_network_method_with_shipped_weights(folder):
    pytest.importorskip("torch")
    tmp, _ = folder
    assert main(["restore", str(tmp / "in" / "a.png"), "-o", str(tmp / "n.png"), "--method", "srn",
                 "--tile", "64", "--precision", "fp32", "--no-progress"]) == 0
    assert imread(tmp / "n.png").shape == (152, 152, 3)
