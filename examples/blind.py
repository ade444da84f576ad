"""Blind deconvolution: estimate the camera-shake kernel from the blurry photo alone.

    python examples/blind.py [OUT_DIR]
"""

import sys
import time
from pathlib import Path

import numpy as np

from pydeblur import blind_deconvolve, degrade, kernel_similarity, psf, psnr_upto_shift, sample_image
from pydeblur.io import imwrite
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
truth = psf.trajectory(25, length=30, rng=3)
blurry, sharp, _ = degrade(sample_image("astronaut"), psf=truth, noise_sigma=0.01, rng=0)
start = time.perf_counter()
restored, estimate = blind_deconvolve(blurry, psf_size=29, prior="l0", clip=True)
print(f"blind deconvolution in {time.perf_counter() - start:.1f} s; kernel similarity "
      f"{kernel_similarity(estimate, truth):.3f}; PSNR {psnr_upto_shift(blurry, sharp):.2f} -> "
      f"{psnr_upto_shift(restored, sharp):.2f} dB")
kernels = [np.sqrt(psf.to_image(psf.pad_to(k, (29, 29)), scale=8)) for k in (truth, estimate)]
side = kernels[0].shape[0]
images = [np.asarray(p)[100 : 100 + side, 150 : 150 + side] for p in (blurry, restored)]
path = imwrite(out / "blind.png", montage(kernels + images, ["true kernel", "estimated kernel", "blurry",
                                                              "restored"]), overwrite=True)
print(f"wrote {path}")
