"""Restore a folder of photos from Python and with the ``pydeblur restore`` command.

    python examples/restore_folder.py [OUT_DIR]
"""

import subprocess
import sys
from pathlib import Path

from pydeblur import WienerDeblurrer, degrade, psf, sample_image
from pydeblur.io import imread, imwrite, list_images
from pydeblur.viz import montage

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples-out")
kernel = psf.motion(15, 45)
for name in ("astronaut", "coffee", "chelsea"):
    blurry, _, _ = degrade(sample_image(name), psf=kernel, noise_sigma=0.01, rng=0)
    imwrite(out / "blurry" / f"{name}.png", blurry, overwrite=True)

# From Python: one Deblurrer, a list of images in, a list out.
deblurrer = WienerDeblurrer(psf=kernel, clip=True)
images = [imread(p) for p in list_images(out / "blurry")]
for path, restored in zip(list_images(out / "blurry"), deblurrer.restore(images), strict=True):
    imwrite(out / "restored_python" / path.name, restored, overwrite=True)

# From the shell: the same folder, hyper-Laplacian, a JSON report for scripts.
command = [sys.executable, "-m", "pydeblur", "restore", str(out / "blurry"),
           "-o", str(out / "restored_cli"),
           "--method", "hyper-laplacian", "--psf", "motion:length=15,angle=45", "--overwrite", "--json"]
print(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
panels = [imread(out / "blurry" / "coffee.png"), imread(out / "restored_python" / "coffee.png"),
          imread(out / "restored_cli" / "coffee.png")]
path = imwrite(out / "restore_folder.png", montage(panels, ["blurry", "wiener (Python)",
                                                             "hyper-laplacian (CLI)"]), overwrite=True)
print(f"wrote {path}")
