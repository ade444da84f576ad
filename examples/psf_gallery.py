"""PSF gallery: one kernel of each family, drawn side by side.

    python examples/psf_gallery.py [OUT_DIR]
"""

import sys
from pathlib import Path

import numpy as np

from pydeblur import psf
from pydeblur.io import imwrite
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
kernels = {
    "gaussian 2.5": psf.gaussian(2.5, size=31),
    "gaussian 4x1, 30deg": psf.gaussian((4.0, 1.0), angle=30, size=31),
    "defocus r=8": psf.defocus(8, size=31),
    "motion 25px, 60deg": psf.motion(25, 60, size=31),
    "camera shake": psf.trajectory(31, length=35, rng=1),
    "camera shake, seed 2": psf.trajectory(31, length=35, rng=2),
}
panels = [np.sqrt(psf.to_image(k, scale=4)) for k in kernels.values()]  # sqrt shows faint tails
path = imwrite(out / "psf_gallery.png", montage(panels, list(kernels)), overwrite=True)
for name, k in kernels.items():
    print(f"{name:<22} {k.shape[0]}x{k.shape[1]}  sum {k.sum():.4f}")
print(f"wrote {path}")
