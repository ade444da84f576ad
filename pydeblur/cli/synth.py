"""``pydeblur synth``: blurry/sharp pairs in GoPro layout from a folder of sharp photos."""

from __future__ import annotations

import time
from pathlib import Path

from ._exit import EXIT_OK, non_negative_float, positive_int


def add_parser(commands) -> None:
    """Register ``synth`` on the command's subparsers."""
    from ..synth import FAMILIES

    parser = commands.add_parser(
        "synth", help="synthesise blurry/sharp pairs from a folder of sharp photos",
        description="Write blurry/sharp pairs in GoPro layout (OUT_DIR/<seq>/blur, sharp, "
                    "kernel, meta) plus manifest.json. Re-running resumes.")
    parser.add_argument("sharp_dir", type=Path, metavar="SHARP_DIR")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--per-image", type=positive_int, default=1, help="pairs per photo")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES),
                         help="PSF families to draw from")
    parser.add_argument("--max-size", type=positive_int, default=31, help="largest kernel side (odd)")
    parser.add_argument("--noise-sigma", type=non_negative_float, default=0.01, help="Gaussian noise sigma")
    parser.add_argument("--poisson-peak", type=float, help="photons at value 1 (shot noise)")
    parser.add_argument("--gamma", type=float, help="camera response exponent, e.g. 2.2")
    parser.add_argument("--exposure", type=float, default=1.0, help="gain before saturation")
    parser.add_argument("--jpeg-quality", type=int, help="JPEG quality 1-100")
    parser.add_argument("--boundary", default="valid",
                         choices=("valid", "reflect", "periodic", "zero"), help="blur boundary")
    parser.add_argument("--bit-depth", type=int, default=8, choices=(8, 16), help="PNG bit depth")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args) -> int:
    from ..synth import PSFSampler, synthesize_folder

    sampler = PSFSampler(args.families, max_size=args.max_size)
    start = time.perf_counter()
    manifest = synthesize_folder(
        args.sharp_dir, args.out_dir, per_image=args.per_image, seed=args.seed, sampler=sampler,
        noise_sigma=args.noise_sigma, poisson_peak=args.poisson_peak, gamma=args.gamma,
        exposure=args.exposure, jpeg_quality=args.jpeg_quality, boundary=args.boundary,
        bit_depth=args.bit_depth, progress=not args.no_progress,
    )
    print(f"{len(manifest)} pairs in {args.out_dir} ({time.perf_counter() - start:.1f} s); "
          f"manifest: {Path(args.out_dir) / 'manifest.json'}")
    return EXIT_OK
