"""Non-blind deconvolution: the PSF is known; compare the five classical solvers and, when
the torch extra is installed, plug-and-play with the shipped learned denoiser.

    python examples/non_blind.py [OUT_DIR]
"""

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

from pydeblur import (
    degrade,
    hyper_laplacian,
    inverse,
    plug_and_play,
    psf,
    psnr,
    richardson_lucy,
    sample_image,
    tv,
    wiener,
)
from pydeblur.io import imwrite
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
kernel = psf.motion(21, 30)
blurry, sharp, _ = degrade(sample_image("astronaut"), psf=kernel, noise_sigma=0.01, rng=0)
panels, labels = [sharp, blurry], ["sharp", f"blurry {psnr(blurry, sharp):.1f} dB"]
solvers = [("inverse", inverse), ("wiener", wiener), ("richardson_lucy", richardson_lucy),
           ("hyper_laplacian", hyper_laplacian), ("tv", tv)]
if importlib.util.find_spec("torch") is not None:  # the learned prior needs the torch extra
    solvers.append(("plug_and_play", plug_and_play))
for name, solver in solvers:
    start = time.perf_counter()
    restored = solver(blurry, kernel, clip=True)  # boundary='smooth', automatic weights
    seconds = time.perf_counter() - start
    print(f"{name:<16} {psnr(restored, sharp):6.2f} dB  {seconds:5.2f} s")
    panels.append(restored)
    labels.append(f"{name} {psnr(restored, sharp):.1f} dB")
crops = [np.asarray(p)[150:350, 150:350] for p in panels]
path = imwrite(out / "non_blind.png", montage(crops, labels, psf=kernel), overwrite=True)
print(f"wrote {path}")
