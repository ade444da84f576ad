"""Calibrate the two constants of the blind route's final non-blind step.

With ``final_lam="auto"`` the blind route restores with hyper-Laplacian twice: first
with weights ``lam = s / (sigma^2 + sigma_k^2)`` per channel (``sigma`` the image's
noise estimate, ``sigma_k`` a constant margin for the error of an estimated kernel),
then with ``1 / (sigma^2 / s + max(r^2 - sigma^2, 0) / RESIDUAL_SCALE)``, ``r`` the first
result's re-blur residual: what the noise does not explain is read as kernel error. This
script estimates the kernels once (the default prior and size 31) and prints the mean
PSNR (best shift within 10 px on a 0.25 px grid, the published protocol, 15 px border)
for a grid of ``sigma_k`` (one pass) and of
``RESIDUAL_SCALE`` (two passes, ``sigma_k`` at its default) on

* the real captures of the Levin 2009 development half (scenes 1-2), with the
  estimated kernels and, in a column of its own, with the true kernels (a good kernel
  should be trusted more: the rule must serve both), and
* synthetic pairs from BSDS500 *train* photos: grey crops blurred by camera-shake
  trajectories 11-27 px ('valid' blur) with noise sigma 0.5 % and 2 %.

The values chosen are ones that do well on all columns (global constants, nothing per
image or per kernel).

    python benchmarks/calibrate_blind_final.py [--levin DIR] [--bsds DIR]
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur import psf
from pydeblur.blind import _deblur, estimate_psf
from pydeblur.blind._deblur import final_restoration, final_weights
from pydeblur.datasets import load_levin
from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr_upto_shift
from pydeblur.restoration import hyper_laplacian
from pydeblur.synth import degrade

ARGS = sys.argv[1:]
SHARED = Path(__file__).resolve().parents[2] / "shared/data"
LEVIN = Path(ARGS[ARGS.index("--levin") + 1]) if "--levin" in ARGS else SHARED / "levin09_dev/mat"
BSDS = Path(ARGS[ARGS.index("--bsds") + 1]) if "--bsds" in ARGS else SHARED / "bsds500"
SIGMA_K = (0.0, 0.0075, 0.0125, 0.02)
RESIDUAL_SCALES = (0.03, 0.05, 0.07, 0.1, 0.15)
STEP = 0.25


def score(restored, sharp):
    return psnr_upto_shift(restored, sharp, step=STEP)


def synthetic_cases(n=12):
    rng = np.random.default_rng(7)
    cases = []
    for i, path in enumerate(list_images(BSDS / "train")[:n]):
        photo = imread(path, dtype=np.float64).mean(axis=2)
        kernel = psf.trajectory(27, length=rng.uniform(8, 24), rng=rng)
        side = 255 + 26
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        blurry, sharp, _ = degrade(photo[top : top + side, left : left + side], psf=kernel,
                                   noise_sigma=0.005 if i % 2 else 0.02, rng=i)
        cases.append({"name": path.stem, "blurry": blurry, "sharp": sharp, "psf": kernel})
    return cases


def scores(cases, kernels):
    """Mean PSNR per setting (one-pass margins, then two-pass residual scales)."""
    table = []
    for sigma_k in SIGMA_K:
        values = [score(hyper_laplacian(c["blurry"], k, lam=final_weights(c["blurry"], k, sigma_k)),
                        c["sharp"]) for c, k in zip(cases, kernels, strict=True)]
        table.append(float(np.mean(values)))
    for scale in RESIDUAL_SCALES:
        _deblur.RESIDUAL_SCALE = scale
        values = [score(final_restoration(c["blurry"], k), c["sharp"])
                  for c, k in zip(cases, kernels, strict=True)]
        table.append(float(np.mean(values)))
    print(" ".join(f"{v:.2f}" for v in table), flush=True)
    blurry = np.mean([score(c["blurry"], c["sharp"]) for c in cases])
    return table, blurry


def estimated_kernels(cases):
    start = time.perf_counter()
    kernels = [estimate_psf(c["blurry"], 31) for c in cases]
    print(f"kernels: {(time.perf_counter() - start) / len(cases):.1f} s / image", flush=True)
    return kernels


def main():
    levin, synthetic = load_levin(LEVIN), synthetic_cases()
    columns = {"Levin dev (16 real captures), estimated kernels": scores(levin, estimated_kernels(levin)),
               "Levin dev, true kernels": scores(levin, [c["psf"] for c in levin]),
               "BSDS train synthetic (12, noise 0.5 % / 2 %), estimated kernels":
                   scores(synthetic, estimated_kernels(synthetic))}
    header = ("final step", *[f"{name}: PSNR (dB)" for name in columns])
    settings = ([f"one pass, sigma_k {s:g}" for s in SIGMA_K]
                + [f"two passes, RESIDUAL_SCALE {s:g}" for s in RESIDUAL_SCALES])
    rows = [(setting, *[f"{columns[name][0][i]:.2f}" for name in columns])
            for i, setting in enumerate(settings)]
    rows.append(("blurry input", *[f"{columns[name][1]:.2f}" for name in columns]))
    report("calibrate_blind_final", "Constants of the blind final step",
           markdown_table(header, rows), "python benchmarks/calibrate_blind_final.py " + " ".join(ARGS))


if __name__ == "__main__":
    main()
