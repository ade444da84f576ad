"""Non-blind solver speed vs scikit-image, measured side by side in one run.

1024x1024 grey (float32 and float64) and RGB images, a 31x31 motion PSF: our
`wiener` and `richardson_lucy` (30 iterations) against `skimage.restoration.wiener` /
`richardson_lucy` (run per channel on RGB: scikit-image has no colour support).
Ours are timed with the periodic boundary that scikit-image uses and with our
default 'smooth' boundary (which adds the padding that removes edge ringing).

    python benchmarks/restoration_speed.py [--quick]
"""

import sys

import numpy as np
import skimage
import skimage.restoration as ski
from _common import best_time, markdown_table, report

from pydeblur import psf
from pydeblur.bench import per_channel
from pydeblur.restoration import richardson_lucy, wiener


def time_solvers(image, kernel, rl_repeat):
    """Rows (solver, ms scikit-image, ms periodic, ms smooth) for one image."""
    cases = [
        ("wiener", 5,
         lambda: per_channel(lambda im: ski.wiener(im, kernel, 0.01, clip=False), image),
         lambda: wiener(image, kernel, balance=0.01, boundary="periodic"),
         lambda: wiener(image, kernel, balance=0.01)),
        ("richardson_lucy x30", rl_repeat,
         lambda: per_channel(lambda im: ski.richardson_lucy(im, kernel, 30, clip=False), image),
         lambda: richardson_lucy(image, kernel, max_iter=30, boundary="periodic"),
         lambda: richardson_lucy(image, kernel, max_iter=30)),
    ]
    rows = []
    for name, repeat, theirs, periodic, smooth in cases:
        periodic()  # compile numba kernels outside the timing
        rows.append((name, *(best_time(f, repeat=repeat) for f in (theirs, periodic, smooth))))
    return rows


def main(quick=False):
    size = 512 if quick else 1024
    kernel = psf.motion(31, 30, size=31)
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        for shape in ((size, size), (size, size, 3)):
            image = rng.random(shape).astype(dtype)
            label = f"{'RGB' if len(shape) == 3 else 'grey'} {np.dtype(dtype).name}"
            for name, t_ski, t_per, t_smooth in time_solvers(image, kernel, 1 if quick else 2):
                rows.append((name, label, f"{t_ski * 1e3:.0f}", f"{t_per * 1e3:.0f}",
                             f"**{t_ski / t_per:.1f}x**", f"{t_smooth * 1e3:.0f}",
                             f"{t_ski / t_smooth:.1f}x"))
    report("restoration_speed",
           f"Non-blind speed, {size}x{size}, 31x31 motion PSF, best of n "
           f"(scikit-image {skimage.__version__})",
           markdown_table(["solver", "image", "scikit-image ms", "pydeblur periodic ms", "speed-up",
                           "pydeblur smooth ms", "speed-up"], rows),
           "python benchmarks/restoration_speed.py")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
