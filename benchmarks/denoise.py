"""The CNN denoiser behind plug-and-play: PSNR on BSDS500 *val* photos (not used in training).

Grey (the mean of the channels) and colour versions of the first 20 val photos, Gaussian
noise of sigma 5, 15, 25 and 50 (/255) from a fixed seed, denoised with ``denoise(y, sigma)``
at the true sigma. For orientation only (another set of photos), published means at
sigma 15 / 25 / 50 on BSD68 (grey): BM3D 31.07 / 28.57 / 25.62, IRCNN 31.63 / 29.15 / 26.19;
on CBSD68 (colour): CBM3D 33.52 / 30.71 / 27.38, IRCNN 33.86 / 31.16 / 27.86.

    python benchmarks/denoise.py [--denoiser NAME_OR_PATH ...] [--bsds DIR]
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr
from pydeblur.nets.denoiser import denoise

ARGS = sys.argv[1:]
SIGMAS = (5, 15, 25, 50)


def options(name, default):
    if name not in ARGS:
        return default
    start = ARGS.index(name) + 1
    end = next((i for i in range(start, len(ARGS)) if ARGS[i].startswith("--")), len(ARGS))
    return ARGS[start:end]


BSDS = Path(options("--bsds", [Path(__file__).resolve().parents[2] / "shared/data/bsds500"])[0])
DENOISERS = options("--denoiser", ["denoiser"])


def scores(denoiser, photos, colour):
    rng = np.random.default_rng(0)
    row, seconds = [], []
    for sigma in SIGMAS:
        values = []
        for photo in photos:
            clean = photo if colour else photo.mean(axis=2)
            noisy = clean + rng.standard_normal(clean.shape).astype(np.float32) * (sigma / 255)
            start = time.perf_counter()
            values.append(psnr(denoise(noisy, sigma / 255, denoiser=denoiser), clean))
            seconds.append(time.perf_counter() - start)
        row.append(float(np.mean(values)))
    return row, float(np.mean(seconds))


def main():
    photos = [imread(p, dtype=np.float32) for p in list_images(BSDS / "val")[:20]]
    rows = []
    for name in ("noisy input", *DENOISERS):
        for colour in (False, True):
            kind = "colour" if colour else "grey"
            if name == "noisy input":
                rows.append((f"noisy input, {kind}", *[f"{20 * np.log10(255 / s):.2f}" for s in SIGMAS], ""))
                continue
            row, seconds = scores(name, photos, colour)
            rows.append((f"{name}, {kind}", *[f"{v:.2f}" for v in row], f"{seconds:.2f}"))
            print(rows[-1], flush=True)
    header = ("denoiser, images", *[f"sigma {s}" for s in SIGMAS], "s / image")
    report("denoise", "Denoiser PSNR (dB) on 20 BSDS500 val photos (481x321)", markdown_table(header, rows),
           "python benchmarks/denoise.py " + " ".join(ARGS))


if __name__ == "__main__":
    main()
