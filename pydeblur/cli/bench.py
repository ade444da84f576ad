"""``pydeblur bench quality | speed``."""

from __future__ import annotations

import json
from pathlib import Path

from ..bench import crop_montage, markdown_table, quality, speed, summary_rows, write_plot
from ._exit import EXIT_OK, non_negative_float, positive_int


def run(args) -> int:
    """Run ``bench quality`` or ``bench speed``."""
    return run_quality(args) if args.bench == "quality" else run_speed(args)


def run_quality(args) -> int:
    out = Path(args.output_dir)
    files = [out / name for name in ("quality.md", "quality.png", "montage.png", "quality.json")]
    existing = [str(f) for f in files if f.exists()]
    if existing and not args.overwrite:
        raise FileExistsError(f"{', '.join(existing)} already exist; pass --overwrite or another -o.")
    table, cases = quality(args.sharp_dir, methods=args.methods, n_images=args.n_images, crop=args.crop,
                           families=args.families, noise_levels=args.noise, max_size=args.max_size,
                           seed=args.seed, blind_prior=args.blind_prior, progress=not args.no_progress)
    detail = markdown_table(
        ("method", "kind", "PSF family", "noise", "PSNR (dB)", "SSIM", "seconds"),
        [(m, k, f, n, f"{p:.2f}", f"{s:.3f}", f"{t:.2f}") for m, k, f, n, p, s, t in table])
    overall = markdown_table(
        ("method", "kind", "PSNR (dB)", "SSIM", "seconds / image"),
        [(m, k, f"{p:.2f}", f"{s:.3f}", f"{t:.2f}") for m, k, p, s, t in summary_rows(table)])
    photos = len({case["name"] for case in cases})  # fewer than --n-images when the folder holds fewer
    text = (f"# pydeblur bench quality\n\n{len(cases)} cases from {args.sharp_dir} ({photos} photos, "
            f"{args.crop}px crops, PSFs up to {args.max_size}px, 'valid' blur, seed {args.seed}, blind prior "
            f"{args.blind_prior}). Non-blind "
            "methods are given the true PSF; blind methods and networks are not. PSNR / SSIM after the best "
            "integer shift within 10 px, 15 px border.\n\n## All cases\n\n" + overall
            + "\n\n## By PSF family and noise\n\n" + detail + "\n")
    from ..io import imwrite, write_bytes_atomic

    write_bytes_atomic(files[0], text.encode(), overwrite=True)
    write_bytes_atomic(files[3], json.dumps([dict(zip(("method", "kind", "family", "noise", "psnr", "ssim",
                                                       "seconds"), row, strict=True)) for row in table],
                                            indent=1, default=float).encode(), overwrite=True)
    imwrite(files[2], crop_montage(cases[0]), overwrite=True)
    print(overall)
    try:
        write_plot(table, files[1])
    except ImportError as error:
        print(f"plot not written: {error}")
    print(f"wrote {', '.join(str(f) for f in files if f.exists())}")
    return EXIT_OK


def run_speed(args) -> int:
    rows = speed(args.size, repeat=args.repeat)
    print(f"pydeblur vs its peers, {args.size}x{args.size}, 31x31 motion PSF, best of {args.repeat}; "
          "pydeblur's solvers use the periodic boundary of scikit-image's")
    print(markdown_table(("operation", "image", "peer", "peer ms", "pydeblur ms", "speed-up"), rows))
    return EXIT_OK


def add_parser(commands) -> None:
    """Register ``bench quality`` and ``bench speed``."""
    from ..methods import METHODS, PRIORS
    from ..synth import FAMILIES

    p = commands.add_parser("bench", help="compare methods (quality) or time pydeblur against peers (speed)",
                            description="Benchmarks: 'quality' runs every method on one synthesised set; "
                                        "'speed' times pydeblur against scikit-image and OpenCV.")
    sub = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    q = sub.add_parser("quality", help="every method on the same blurred set",
                       description="Synthesise blur (PSF families x noise levels) on crops of SHARP_DIR's "
                                   "photos and run every method; writes quality.md, quality.json, "
                                   "quality.png (matplotlib) and montage.png.")
    q.add_argument("sharp_dir", type=Path, metavar="SHARP_DIR")
    q.add_argument("-o", "--output-dir", type=Path, default=Path("pydeblur-bench"))
    q.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: every runnable method")
    q.add_argument("--n-images", type=positive_int, default=4, help="photos used (the first N)")
    q.add_argument("--crop", type=positive_int, default=192, help="side of the blurred crops")
    q.add_argument("--families", nargs="+", choices=FAMILIES, help="PSF families (default: all)")
    q.add_argument("--noise", type=non_negative_float, nargs="+", default=[0.01], help="noise sigmas")
    q.add_argument("--max-size", type=positive_int, default=21, help="largest PSF side")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--blind-prior", default="l0", choices=PRIORS,
                   help="image prior of the blind method")
    q.add_argument("--overwrite", action="store_true", help="replace earlier results in the folder")
    q.add_argument("--no-progress", action="store_true")
    s = sub.add_parser("speed", help="pydeblur vs scikit-image and OpenCV, ratios from one run")
    s.add_argument("--size", type=positive_int, default=1024, help="image side")
    s.add_argument("--repeat", type=positive_int, default=3, help="timed runs (best is kept)")
