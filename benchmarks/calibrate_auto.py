"""Calibrate the constants behind the solvers' "auto" settings on BSDS500 *train* photos.

The auto rules are ``balance = s * model_balance`` (Wiener) and ``lam = s / sigma^2``
(hyper-Laplacian, TV); this script prints mean PSNR for a grid of ``s`` on
synthetic pairs (every PSF family, noise sigma 0.01 and 0.02, 'valid' blur) made
from training photos only, so the benchmark images (scikit-image photos, BSDS val)
are never used for tuning.

    python benchmarks/calibrate_auto.py [BSDS_ROOT]
"""

import importlib
import sys
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur import psf
from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr
from pydeblur.restoration import hyper_laplacian, tv, wiener
from pydeblur.synth import degrade

# The modules (not the functions of the same names that pydeblur.restoration exports).
wiener_module = importlib.import_module("pydeblur.restoration.wiener")
hl_module = importlib.import_module("pydeblur.restoration.hyper_laplacian")
tv_module = importlib.import_module("pydeblur.restoration.tv")

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/data/bsds500"


def pairs(n_images=8):
    rng = np.random.default_rng(0)
    out = []
    for i, path in enumerate(list_images(ROOT / "train")[:n_images]):
        x = imread(path)[:256, :256]
        kernels = [psf.motion(rng.uniform(9, 31), rng.uniform(0, 180)), psf.gaussian(rng.uniform(1, 4)),
                   psf.defocus(rng.uniform(2, 8)), psf.trajectory(length=rng.uniform(10, 35), rng=i)]
        for j, k in enumerate(kernels):
            for sigma in (0.01, 0.02):
                b, s, _ = degrade(x, psf=k, noise_sigma=sigma, rng=100 * i + j)
                out.append((b, s, k))
    return out


def scan(name, module, attribute, solver, grid, data):
    original = getattr(module, attribute)
    rows = []
    try:
        for scale in grid:
            setattr(module, attribute, scale)
            rows.append((scale, np.mean([psnr(solver(b, k), s) for b, s, k in data])))
    finally:
        setattr(module, attribute, original)
    best = max(rows, key=lambda r: r[1])
    return [(name, f"{s:g}", f"{p:.3f}", "best" if (s, p) == best else "") for s, p in rows]


def main():
    data = pairs()
    rows = []
    wiener_grid = [{"gradient": g, "laplacian": 0.5, "identity": 1.0} for g in (1.0, 1.4, 1.7, 2.0, 2.5)]
    original = dict(wiener_module.AUTO_BALANCE_SCALE)
    for scales in wiener_grid:
        wiener_module.AUTO_BALANCE_SCALE.update(scales)
        value = np.mean([psnr(wiener(b, k, clip=True), s) for b, s, k in data])
        rows.append(("wiener (gradient)", f"{scales['gradient']:g}", f"{value:.3f}", ""))
    wiener_module.AUTO_BALANCE_SCALE.update(original)
    rows += scan("hyper_laplacian", hl_module, "AUTO_LAM_SCALE",
                 lambda b, k: hyper_laplacian(b, k, clip=True), [0.1, 0.15, 0.25, 0.35, 0.5], data)
    rows += scan("tv", tv_module, "AUTO_LAM_SCALE",
                 lambda b, k: tv(b, k, clip=True), [0.03, 0.05, 0.08, 0.12, 0.2], data)
    report("calibrate_auto", f"Auto-parameter calibration ({len(data)} BSDS train pairs)",
           markdown_table(["solver", "scale", "mean PSNR (dB)", ""], rows),
           "python benchmarks/calibrate_auto.py")


if __name__ == "__main__":
    main()
