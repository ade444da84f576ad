"""``pydeblur psf``: make a PSF and save it as .npy (exact) or .png (to view)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._exit import EXIT_OK


def add_parser(commands) -> None:
    """Register ``psf`` on the command's subparsers."""
    parser = commands.add_parser("psf", help="make a PSF and save it as .npy / .png",
                                description="Make a PSF and save it (.npy exact, .png to view).")
    families = parser.add_subparsers(dest="family", required=True, metavar="FAMILY")

    def family_parser(name, help_text):
        sub = families.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-o", "--output", type=Path, action="append", required=True,
                         help="output .npy or .png path (repeat for both)")
        sub.add_argument("--size", type=int, help="kernel side in pixels (default: automatic)")
        sub.add_argument("--scale", type=int, default=1, help="enlarge the .png view by this factor")
        sub.add_argument("--overwrite", action="store_true", help="replace existing files")
        return sub

    sub = family_parser("gaussian", "Gaussian PSF, isotropic or anisotropic")
    sub.add_argument("--sigma", type=float, required=True, help="sigma (along --angle) in pixels")
    sub.add_argument("--sigma-across", type=float, help="sigma across --angle (anisotropic)")
    sub.add_argument("--angle", type=float, default=0.0, help="degrees counter-clockwise")
    sub = family_parser("defocus", "out-of-focus disk PSF")
    sub.add_argument("--radius", type=float, required=True, help="disk radius in pixels")
    sub = family_parser("motion", "linear motion PSF")
    sub.add_argument("--length", type=float, required=True, help="streak length in pixels")
    sub.add_argument("--angle", type=float, default=0.0, help="degrees counter-clockwise")
    sub = family_parser("trajectory", "random camera-shake PSF")
    sub.add_argument("--length", type=float, default=30.0, help="camera path length in pixels")
    sub.add_argument("--anxiety", type=float, default=0.005, help="strength of the shake")
    sub.add_argument("--exposure", type=float, default=1.0, help="fraction of the path exposed")
    sub.add_argument("--seed", type=int, default=0, help="random seed")


def _write_psf(kernel: np.ndarray, outputs: list[Path], *, scale: int, overwrite: bool) -> None:
    import io

    from ..io import imwrite, write_bytes_atomic
    from ..psf import to_image

    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".npy":
            buffer = io.BytesIO()
            np.save(buffer, kernel)
            write_bytes_atomic(out, buffer.getvalue(), overwrite=overwrite)
        elif suffix in (".png", ".tif", ".tiff"):
            imwrite(out, to_image(kernel, scale=scale), bit_depth=16, overwrite=overwrite)
        else:
            raise ValueError(f"{out}: a PSF is saved as .npy (exact) or .png / .tif (to view).")
        print(f"wrote {out}")


def run(args) -> int:
    from .. import psf

    if args.family == "gaussian":
        sigma = args.sigma if args.sigma_across is None else (args.sigma, args.sigma_across)
        kernel = psf.gaussian(sigma, size=args.size, angle=args.angle)
    elif args.family == "defocus":
        kernel = psf.defocus(args.radius, size=args.size)
    elif args.family == "motion":
        kernel = psf.motion(args.length, args.angle, size=args.size)
    else:
        kernel = psf.trajectory(args.size, length=args.length, anxiety=args.anxiety,
                                exposure=args.exposure, rng=args.seed)
    _write_psf(kernel, args.output, scale=args.scale, overwrite=args.overwrite)
    print(f"{args.family} PSF {kernel.shape[0]}x{kernel.shape[1]}, sum {kernel.sum():.6f}")
    return EXIT_OK
