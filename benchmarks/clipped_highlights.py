"""Non-blind deconvolution of photos with clipped highlights, with and without leaving them out.

Six BSDS500 *val* photos (grey, 255x255 crops, photos 6-11 of the sorted list) brightened
1.6x so that their highlights pass the sensor's ceiling, blurred by camera-shake kernels
spanning 21 px (``_common.shake_spanning``), 1 % Gaussian noise, then clipped to [0, 1]
and cut to the 'valid' part. Each is restored with the true kernel by ``tv``,
``hyper_laplacian`` and ``plug_and_play`` (defaults) as they run now, where clipped highlights
(``operators.clipped_highlights``: plateaus at 0.995 or more) are left out of the data term,
and as before, with every pixel fitted (``SATURATION_LEVEL`` raised above 1). PSNR against
the brightened photo clipped to [0, 1]; the title's share counts every pixel at 0.995 or more.

    python benchmarks/clipped_highlights.py [BSDS_ROOT]
"""

import importlib
import sys
from pathlib import Path

import numpy as np
from _common import markdown_table, report, shake_spanning

from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr
from pydeblur.operators import convolve
from pydeblur.restoration import hyper_laplacian, plug_and_play, tv

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/data/bsds500"
BRIGHTNESS = 1.6
operators = importlib.import_module("pydeblur.operators")


def cases():
    rng = np.random.default_rng(3)
    out = []
    for path in list_images(ROOT / "val")[5:11]:
        latent = imread(path, dtype=np.float64).mean(axis=2)[:255, :255] * BRIGHTNESS
        kernel = shake_spanning(21, rng)
        half = kernel.shape[0] // 2
        blurry = convolve(latent, kernel, boundary="reflect") + 0.01 * rng.standard_normal(latent.shape)
        valid = (slice(half, -half), slice(half, -half))
        out.append({"blurry": np.clip(blurry, 0, 1)[valid], "sharp": np.clip(latent, 0, 1)[valid],
                    "psf": kernel})
    return out


def mean_psnr(solver, data, saturation_level):
    default = operators.SATURATION_LEVEL
    operators.SATURATION_LEVEL = saturation_level
    try:
        return np.mean([psnr(np.clip(solver(c["blurry"], c["psf"]), 0, 1), c["sharp"]) for c in data])
    finally:
        operators.SATURATION_LEVEL = default


def main():
    data = cases()
    clipped = np.mean([np.mean(c["blurry"] >= operators.SATURATION_LEVEL) for c in data])
    rows = [["blurry input", f"{np.mean([psnr(c['blurry'], c['sharp']) for c in data]):.2f}", ""]]
    for name, solver in (("tv", tv), ("hyper_laplacian", hyper_laplacian), ("plug_and_play", plug_and_play)):
        left_out = mean_psnr(solver, data, operators.SATURATION_LEVEL)
        fitted = mean_psnr(solver, data, 2.0)
        rows.append([name, f"{left_out:.2f}", f"{fitted:.2f}"])
    report("clipped_highlights",
           f"Clipped highlights (6 BSDS val crops x{BRIGHTNESS}, 21 px shake, 1 % noise, "
           f"{clipped:.1%} of the pixels clipped; PSNR, dB)",
           markdown_table(["method", "clipped pixels left out (now)", "every pixel fitted (before)"], rows),
           "python benchmarks/clipped_highlights.py")


if __name__ == "__main__":
    main()
