"""Blind deconvolution: quality per prior, error ratio against the true kernel, speed.

Synthetic set (default): centre crops of BSDS500 *val* photos, grey, blurred with a
random camera-shake trajectory (13-27 px, Levin-like) by 'valid' convolution, plus
1 % Gaussian noise, 255x255 after blurring. With ``--levin DIR`` the cases come from
Levin-format data instead (:func:`pydeblur.datasets.load_levin`).

Per prior (kernel size 27, or the true kernel's side if larger): mean PSNR with the
blind protocol (best shift within 10 px on a 0.25 px grid, as the published figures
on the Levin captures are measured, 15 px border; and with integer shifts only), SSIM at that shift,
the error ratio (MSE with the estimated kernel over MSE of the same final step with
the true kernel; mean, and share of cases <= 3), kernel similarity and
seconds per image (estimation + restoration). The "defaults" row is what a new user
gets, ``BlindDeblurrer().fit_restore(y)``, with no knowledge of the kernel's size, and the
default final step ('auto': plug-and-play, the learned prior, when torch is
installed); every row is repeated with the hyper-Laplacian final step, which is what an
install without torch gets; two more rows name the learned steps ('plug_and_play', 'fusion')
explicitly. ``--only NAME,NAME`` runs only the named rows.
``--large`` also times a 1-megapixel colour photo with a 75 px kernel. Results go to
``results/blind.md`` (synthetic) or ``results/blind_levin.md`` (``--levin``).

    python benchmarks/blind.py [BSDS_ROOT] [--levin DIR] [--quick] [--large] [--only ROWS]
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, report, shake_spanning

from pydeblur import psf
from pydeblur.blind import BlindDeblurrer, blind_deconvolve
from pydeblur.blind._deblur import final_restoration, resolve_final_step
from pydeblur.datasets import load_levin
from pydeblur.io import imread, list_images
from pydeblur.methods import FINAL_STEPS
from pydeblur.metrics import kernel_similarity, psnr_upto_shift, ssim_upto_shift
from pydeblur.synth import degrade

ARGS = sys.argv[1:]
QUICK = "--quick" in ARGS
LEVIN = Path(ARGS[ARGS.index("--levin") + 1]) if "--levin" in ARGS else None
POSITIONAL = [a for i, a in enumerate(ARGS)
              if not a.startswith("--") and (i == 0 or ARGS[i - 1] not in ("--levin", "--only"))]
ROOT = Path(POSITIONAL[0]) if POSITIONAL else Path(__file__).resolve().parents[2] / "shared/data/bsds500"
PRIORS = ("l0", "dark_channel") if QUICK else ("l0", "l0_text", "dark_channel", "learned")
#: Rows: (name, prior or "defaults" for BlindDeblurrer(), final step). 'auto' is learned
#: plug-and-play when torch is installed; the hyper-Laplacian rows are what a torch-less install gets.
ROWS = [("defaults", "defaults", "auto"),
        ("defaults / hyper-Laplacian step (no torch)", "defaults", "hyper_laplacian"),
        ("defaults / plug-and-play step", "defaults", "plug_and_play"),
        ("defaults / fusion step", "defaults", "fusion"),
        *[(prior, prior, "auto") for prior in PRIORS],
        *[(f"{prior} / hyper-Laplacian step", prior, "hyper_laplacian") for prior in PRIORS]]
#: ``--only NAME,NAME``: run only these rows (names as in ROWS).
ONLY = ARGS[ARGS.index("--only") + 1].split(",") if "--only" in ARGS else None
PSF_SIZE = 27
#: Shift search of the published protocol (Levin et al. 2009, SelfDeblur's statistic_levin.m).
STEP = 0.25


def synthetic_cases(n):
    rng = np.random.default_rng(2024)
    cases = []
    for i, path in enumerate(list_images(ROOT / "val")[:n]):
        photo = imread(path, dtype=np.float64).mean(axis=2)
        kernel = psf.trajectory(PSF_SIZE, length=rng.uniform(10, 30), rng=rng)
        side = 255 + PSF_SIZE - 1
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        blurry, sharp, _ = degrade(photo[top : top + side, left : left + side], psf=kernel,
                                   noise_sigma=0.01, rng=i)
        cases.append({"name": path.stem, "blurry": blurry, "sharp": sharp, "psf": kernel})
    return cases


def evaluate(cases, prior, final_step, references):
    rows = []
    for index, case in enumerate(cases):
        start = time.perf_counter()
        if prior == "defaults":
            deblurrer = BlindDeblurrer(clip=True, final_step=final_step)
            restored = deblurrer.fit_restore(case["blurry"])
            kernel = deblurrer.psf_
        else:
            size = max(PSF_SIZE, case["psf"].shape[0] | 1)
            restored, kernel = blind_deconvolve(case["blurry"], size, prior=prior, clip=True,
                                                final_step=final_step)
        seconds = time.perf_counter() - start
        if (index, final_step) not in references:
            reference = final_restoration(case["blurry"], case["psf"], clip=True, final_step=final_step)
            references[index, final_step] = [psnr_upto_shift(reference, case["sharp"], step=step)
                                              for step in (STEP, 1)]
        best, best_integer = references[index, final_step]
        ours = psnr_upto_shift(restored, case["sharp"], step=STEP)
        rows.append((ours, ssim_upto_shift(restored, case["sharp"], step=STEP), 10 ** ((best - ours) / 10),
                     kernel_similarity(kernel, case["psf"]), seconds, best,
                     psnr_upto_shift(restored, case["sharp"]), best_integer))
    return np.array(rows)


def large_photo_seconds():
    photo = imread(list_images(ROOT / "val")[0], dtype=np.float32)
    photo = np.tile(photo, (4, 4, 1))[:1074, :1074]  # about 1000x1000 colour after 'valid' blur
    kernel = shake_spanning(75, np.random.default_rng(5))
    blurry, _, _ = degrade(photo, psf=kernel, noise_sigma=0.01, rng=0)
    start = time.perf_counter()
    blind_deconvolve(blurry, 75, fallback="restore")  # the whole route, even if the estimate is not trusted
    return blurry.shape, time.perf_counter() - start


def main():
    cases = load_levin(LEVIN) if LEVIN else synthetic_cases(6 if QUICK else 24)
    source = f"Levin-format data in {LEVIN}" if LEVIN else \
        f"{len(cases)} BSDS val crops, trajectory kernels <= {PSF_SIZE} px, 1 % noise"
    header = ("prior", "PSNR (dB)", "PSNR, integer shifts", "SSIM", "error ratio", "ratio <= 3",
              "kernel similarity", "s / image")
    table, references = [], {}
    steps = {step: resolve_final_step(step) for step in FINAL_STEPS}
    for name, prior, step in ROWS:
        if ONLY and name not in ONLY:
            continue
        r = evaluate(cases, prior, steps[step], references)
        table.append((name, f"{r[:, 0].mean():.2f}", f"{r[:, 6].mean():.2f}", f"{r[:, 1].mean():.3f}",
                      f"{r[:, 2].mean():.2f}", f"{np.mean(r[:, 2] <= 3):.0%}", f"{r[:, 3].mean():.3f}",
                      f"{r[:, 4].mean():.1f}"))
        print(table[-1], flush=True)
    for step in dict.fromkeys(steps.values()):
        scores = [v for (_, s), v in references.items() if s == step]
        if scores:
            table.append((f"true kernel, final step {step}", f"{np.mean([v[0] for v in scores]):.2f}",
                          f"{np.mean([v[1] for v in scores]):.2f}", "", "1.00", "", "1.000", ""))
    text = markdown_table(header, table)
    if "--large" in ARGS:
        shape, seconds = large_photo_seconds()
        text += f"\n\nLarge blur: a {shape[0]}x{shape[1]} colour photo with a 75 px kernel: {seconds:.1f} s."
    blurry = [np.mean([psnr_upto_shift(c["blurry"], c["sharp"], step=step) for c in cases])
              for step in (STEP, 1)]
    text += (f"\n\nBlurry input: {blurry[0]:.2f} dB ({blurry[1]:.2f} with integer shifts). PSNR and SSIM "
             f"after the best shift within 10 px on a {STEP} px grid (the published protocol), 15 px border; "
             "the error ratio from those PSNRs.")
    report("blind_levin" if LEVIN else "blind", f"Blind deconvolution ({source})", text,
           "python benchmarks/blind.py " + " ".join(ARGS))


if __name__ == "__main__":
    main()
