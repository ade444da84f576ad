"""Non-blind restoration quality: pydeblur vs scikit-image with the true PSF.

Sharp photos (scikit-image's bundled ones and BSDS500 *val*), centre-cropped to
256x256, are blurred with a 'valid' convolution (the scene goes on past the frame,
so there is no wrap-around to exploit) by a PSF of each family, and Gaussian noise of
sigma 0.01 and 0.02 is added. Every method gets the true PSF. scikit-image's Wiener
is given its *best* balance per image from a grid (an oracle); pydeblur's methods run
with their defaults ('auto' parameters, 'smooth' boundary). The plug-and-play row needs
the torch extra (the shipped denoiser).

    python benchmarks/restoration_quality.py [BSDS_ROOT] [--quick]
"""

import sys
import time
from pathlib import Path

import numpy as np
import skimage.restoration as ski
from _common import markdown_table, report

from pydeblur import psf
from pydeblur.bench import per_channel
from pydeblur.datasets import sample_image
from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr, ssim
from pydeblur.restoration import hyper_laplacian, inverse, plug_and_play, richardson_lucy, tv, wiener
from pydeblur.synth import degrade

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
QUICK = "--quick" in sys.argv
ROOT = Path(ARGS[0]) if ARGS else Path(__file__).resolve().parents[2] / "shared/data/bsds500"
SKI_BALANCES = (1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)


def centre_crop(image, size=256):
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def images():
    names = ["camera", "astronaut", "coffee"] if not QUICK else ["camera"]
    photos = [(f"skimage:{n}", centre_crop(sample_image(n))) for n in names]
    val = list_images(ROOT / "val")[: 2 if QUICK else 6]
    photos += [(f"bsds:{p.stem}", centre_crop(imread(p))) for p in val]
    return photos


def kernels(rng):
    return {
        "gaussian": psf.gaussian(rng.uniform(1.5, 3.0)),
        "defocus": psf.defocus(rng.uniform(3.0, 7.0)),
        "motion": psf.motion(rng.uniform(11, 25), rng.uniform(0, 180)),
        "trajectory": psf.trajectory(length=rng.uniform(15, 30), rng=rng),
    }


def ski_wiener_oracle(blurry, kernel, sharp):
    outs = [np.clip(per_channel(lambda im, b=b: ski.wiener(im, kernel, b, clip=False), blurry), 0, 1)
            for b in SKI_BALANCES]
    return max(outs, key=lambda out: psnr(out, sharp))


METHODS = {
    "blurry input": lambda b, k, s: b,
    "skimage wiener (oracle balance)": ski_wiener_oracle,
    "skimage richardson_lucy x30": lambda b, k, s: per_channel(
        lambda im: ski.richardson_lucy(im, k, 30, clip=True), b),
    "pydeblur inverse": lambda b, k, s: inverse(b, k, clip=True),
    "pydeblur wiener": lambda b, k, s: wiener(b, k, clip=True),
    "pydeblur richardson_lucy x30": lambda b, k, s: richardson_lucy(np.clip(b, 0, None), k, clip=True),
    "pydeblur hyper_laplacian": lambda b, k, s: hyper_laplacian(b, k, clip=True),
    "pydeblur tv": lambda b, k, s: tv(b, k, clip=True),
    "pydeblur plug_and_play": lambda b, k, s: plug_and_play(b, k, clip=True),
}


def main():
    rng = np.random.default_rng(2026)
    results = {}  # (method, family, sigma) -> list of (psnr, ssim, seconds)
    photos = images()
    for index, (_, photo) in enumerate(photos):
        for family, kernel in kernels(rng).items():
            for sigma in (0.01, 0.02):
                blurry, sharp, _ = degrade(photo, psf=kernel, noise_sigma=sigma, rng=index)
                for method, run in METHODS.items():
                    start = time.perf_counter()
                    out = run(blurry, kernel, sharp)
                    seconds = time.perf_counter() - start
                    results.setdefault((method, family, sigma), []).append(
                        (psnr(out, sharp), ssim(out, sharp), seconds))
    rows = []
    for (method, family, sigma), values in results.items():
        values = np.array(values)
        rows.append((method, family, sigma, *(f"{v:.3f}" if i == 1 else f"{v:.2f}"
                                               for i, v in enumerate(values.mean(axis=0)))))
    rows.sort(key=lambda r: (r[1], r[2], list(METHODS).index(r[0])))
    summary = []
    for method in METHODS:
        mean = np.mean([np.array(v)[:, 0].mean() for (m, _, _), v in results.items() if m == method])
        summary.append((method, f"{mean:.2f}"))
    by_sigma = {s: {m: np.mean([np.array(v)[:, 0].mean() for (mm, _, ss), v in results.items()
                                if mm == m and ss == s]) for m in METHODS} for s in (0.01, 0.02)}
    gaps = [(f"sigma={s}", f"{d['pydeblur wiener'] - d['skimage wiener (oracle balance)']:+.2f}",
             f"{d['pydeblur hyper_laplacian'] - d['pydeblur wiener']:+.2f}",
             f"{d['pydeblur plug_and_play'] - d['pydeblur hyper_laplacian']:+.2f}")
            for s, d in by_sigma.items()]
    table = (markdown_table(["method", "PSF family", "noise sigma", "PSNR (dB)", "SSIM", "seconds"], rows)
             + "\n\nMean PSNR over every image, PSF and noise level:\n\n"
             + markdown_table(["method", "mean PSNR (dB)"], summary)
             + "\n\nTargets:\n\n"
             + markdown_table(["noise", "our wiener - skimage wiener (dB)",
                               "hyper_laplacian - our wiener (dB)", "plug_and_play - hyper_laplacian (dB)"],
                              gaps))
    report("restoration_quality",
           f"Non-blind quality, true PSF, 'valid' blur, {len(photos)} photos (256x256) x 4 PSF families",
           table, "python benchmarks/restoration_quality.py")


if __name__ == "__main__":
    main()
