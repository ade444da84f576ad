"""Plug-and-play deconvolution against hyper-Laplacian on real captures and synthetic blur.

* Levin 2009 development half (16 real captures), with the true kernels and with the
  kernels ``BlindDeblurrer()`` estimates (its defaults);
* BSDS500 *val* crops (not used to train the denoiser) blurred by the 8 measured
  Levin kernels, 'valid' blur, 1 % Gaussian noise.

PSNR after the best shift within 10 px on a 0.25 px grid (the protocol of the published
figures on the Levin captures: EPLL 34.75, FDN 35.09), 15 px border. Every method runs with
its defaults ('auto' weights / noise level); hyper-Laplacian is also shown at its best
fixed weight on each set (an oracle choice, for reference), and the blind route's final
steps: its two-pass hyper-Laplacian, plug-and-play at the noise level the second pass
stands for (``final_step="plug_and_play"``, its default with torch), and the mean of the
two (``final_step="fusion"``).

    python benchmarks/pnp.py [--levin DIR] [--bsds DIR] [--denoiser NAME_OR_PATH]

``--denoiser`` other than the shipped default writes ``results/pnp_<name>.md`` and changes
the plug_and_play row only: the blind final-step rows are the route's own, with the default.
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur.blind import BlindDeblurrer
from pydeblur.blind._deblur import final_restoration
from pydeblur.datasets import load_levin
from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr_upto_shift
from pydeblur.restoration import hyper_laplacian, plug_and_play
from pydeblur.synth import degrade

ARGS = sys.argv[1:]
SHARED = Path(__file__).resolve().parents[2] / "shared/data"


def option(name, default):
    return ARGS[ARGS.index(name) + 1] if name in ARGS else default


LEVIN = Path(option("--levin", SHARED / "levin09_dev/mat"))
BSDS = Path(option("--bsds", SHARED / "bsds500"))
DENOISER = option("--denoiser", "denoiser")
HL_LAMS = (1000, 3000, 10000, 30000)
STEP = 0.25


def score(restored, sharp):
    return psnr_upto_shift(restored, sharp, step=STEP)


def synthetic(levin_cases, n=8):
    kernels = {c["name"].split("_")[1]: c["psf"] for c in levin_cases}
    cases = []
    for i, (path, kernel) in enumerate(zip(list_images(BSDS / "val")[:n], kernels.values(), strict=False)):
        photo = imread(path, dtype=np.float64).mean(axis=2)
        side = 255 + kernel.shape[0] - 1
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        blurry, sharp, _ = degrade(photo[top : top + side, left : left + side], psf=kernel,
                                   noise_sigma=0.01, rng=i)
        cases.append({"blurry": blurry, "sharp": sharp, "psf": kernel})
    return cases


def evaluate(cases, kernels):
    scores = {"blurry input": [], "hyper_laplacian (auto)": [], "plug_and_play (auto)": [],
              "blind final step: hyper-Laplacian, two passes": [],
              "blind final step: plug-and-play (its default)": [], "blind final step: fusion": []}
    scores.update({f"hyper_laplacian lam={lam}": [] for lam in HL_LAMS})
    seconds = []
    for case, kernel in zip(cases, kernels, strict=True):
        y, x = case["blurry"], case["sharp"]
        scores["blurry input"].append(score(y, x))
        scores["hyper_laplacian (auto)"].append(score(hyper_laplacian(y, kernel), x))
        for lam in HL_LAMS:
            restored = hyper_laplacian(y, kernel, lam=lam)
            scores[f"hyper_laplacian lam={lam}"].append(score(restored, x))
        start = time.perf_counter()
        restored = plug_and_play(y, kernel, denoiser=DENOISER)
        seconds.append(time.perf_counter() - start)
        scores["plug_and_play (auto)"].append(score(restored, x))
        scores["blind final step: hyper-Laplacian, two passes"].append(score(final_restoration(y, kernel), x))
        scores["blind final step: plug-and-play (its default)"].append(
            score(final_restoration(y, kernel, final_step="plug_and_play"), x))
        scores["blind final step: fusion"].append(score(final_restoration(y, kernel, final_step="fusion"), x))
        print({k: round(v[-1], 2) for k, v in scores.items()}, flush=True)
    return {k: float(np.mean(v)) for k, v in scores.items()}, float(np.mean(seconds))


def main():
    levin = load_levin(LEVIN)
    estimated = [BlindDeblurrer().fit(c["blurry"]).psf_ for c in levin]
    bsds = synthetic(levin)
    sets = {"Levin dev, true kernels": (levin, [c["psf"] for c in levin]),
            "Levin dev, estimated kernels": (levin, estimated),
            "BSDS val x Levin kernels, 1 % noise": (bsds, [c["psf"] for c in bsds])}
    results = {name: evaluate(*pair) for name, pair in sets.items()}
    methods = list(next(iter(results.values()))[0])
    rows = [(m, *[f"{results[s][0][m]:.2f}" for s in sets]) for m in methods]
    rows.append(("plug_and_play seconds / image", *[f"{results[s][1]:.1f}" for s in sets]))
    name = "pnp" if DENOISER == "denoiser" else f"pnp_{Path(DENOISER).stem}"  # another denoiser: its own file
    report(name, f"Plug-and-play against hyper-Laplacian (PSNR, dB), denoiser {DENOISER}",
           markdown_table(("method", *sets), rows), "python benchmarks/pnp.py " + " ".join(ARGS))


if __name__ == "__main__":
    main()
