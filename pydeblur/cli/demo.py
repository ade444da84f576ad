"""``pydeblur demo``: blur a bundled photo, deblur it every way, write a figure."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._exit import EXIT_OK


def add_parser(commands) -> None:
    """Register ``demo`` on the command's subparsers."""
    parser = commands.add_parser("demo", help="blur a bundled photo and deblur it",
                                 description="Blur a bundled photo, deblur it, write a figure.")
    parser.add_argument("-o", "--output-dir", type=Path, default=Path("pydeblur-demo"),
                        help="folder for demo.png (default: ./pydeblur-demo)")
    parser.add_argument("--image", default="astronaut", help="bundled photo to use")
    parser.add_argument("--seed", type=int, default=0, help="random seed")


def run(args) -> int:
    from .. import psf
    from ..blind import blind_deconvolve
    from ..blind._deblur import resolve_final_step
    from ..datasets import sample_image
    from ..io import imwrite
    from ..methods import psf_size_for
    from ..metrics import kernel_similarity, psnr_upto_shift, ssim_upto_shift
    from ..restoration import hyper_laplacian, wiener
    from ..synth import degrade
    from ..viz import montage

    sharp = sample_image(args.image)
    kernel = psf.trajectory(length=25, rng=args.seed)
    blurry, target, _ = degrade(sharp, psf=kernel, noise_sigma=0.01, rng=args.seed)
    rows = [("blurry input", blurry, 0.0)]
    for name, method in (("wiener (true PSF)", wiener), ("hyper-Laplacian (true PSF)", hyper_laplacian)):
        start = time.perf_counter()
        restored = method(blurry, kernel, clip=True)
        rows.append((name, restored, time.perf_counter() - start))
    start = time.perf_counter()
    restored, estimate = blind_deconvolve(blurry, psf_size_for(kernel.shape), clip=True)
    learned = resolve_final_step("auto") != "hyper_laplacian"  # the blind route's learned step needs torch
    rows.append(("blind, L0 + learned prior (no PSF)" if learned else "blind, L0 prior (no PSF)", restored,
                 time.perf_counter() - start))
    try:
        from ..nets import SRNDeblur, shipped_names
    except ImportError:
        print("srn-small skipped: torch is not installed (python -m pip install \"pydeblur[torch]\")")
    else:
        if "srn-small" in shipped_names():
            start = time.perf_counter()
            restored = np.clip(SRNDeblur.from_pretrained("srn-small").restore(blurry), 0, 1)
            rows.append(("srn-small (no PSF)", restored, time.perf_counter() - start))
    panels = [target, blurry] + [image for _, image, _ in rows[1:]]
    labels = ["sharp", "blurry + 1% noise"] + [name for name, _, _ in rows[1:]]
    print(f"{'method':<30}{'PSNR (dB)':>10}{'SSIM':>8}{'seconds':>9}")
    for name, image, seconds in rows:
        scores = psnr_upto_shift(image, target), ssim_upto_shift(image, target)
        print(f"{name:<30}{scores[0]:>10.2f}{scores[1]:>8.3f}{seconds:>9.2f}")
    print(f"estimated kernel: similarity {kernel_similarity(estimate, kernel):.3f} to the true one "
          "(PSNR / SSIM after the best shift within 10 px, 15 px border)")
    out = Path(args.output_dir)
    figure = imwrite(out / "demo.png", montage(panels, labels, psf=kernel), overwrite=True)
    print(f"wrote {figure}")
    return EXIT_OK
