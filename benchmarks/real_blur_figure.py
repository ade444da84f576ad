"""Before/after figure of the real blurry photos (no ground truth): look at them.

Each photo is deblurred with ``BlindDeblurrer()`` defaults and shown beside its input
with the estimated kernel as an inset, downscaled to 480 px wide panels; the figure goes
to ``benchmarks/results/real_blur.jpg`` and the seconds per photo are printed.

    python benchmarks/real_blur_figure.py [FOLDER]
"""

import sys
import time
from pathlib import Path

import cv2
import numpy as np
from _common import RESULTS

from pydeblur.blind import BlindDeblurrer
from pydeblur.io import imread, imwrite, list_images
from pydeblur.viz import montage

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/real_blur_dev"
FOLDER = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT


def small(image, width=480):
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=cv2.INTER_AREA)


def main():
    rows = []
    for path in list_images(FOLDER):
        photo = imread(path, alpha="drop")
        start = time.perf_counter()
        deblurrer = BlindDeblurrer(clip=True)
        restored = deblurrer.fit_restore(photo)
        seconds = time.perf_counter() - start
        print(f"{path.name}: {photo.shape[1]}x{photo.shape[0]}, {seconds:.1f} s", flush=True)
        rows.append(montage([small(photo), small(restored)], [path.name, "BlindDeblurrer() defaults"],
                            psf=deblurrer.psf_))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=1) for r in rows]
    out = imwrite(RESULTS / "real_blur.jpg", np.concatenate(rows, axis=0), quality=85, overwrite=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
