"""The two global thresholds of blur detection, fitted on BSDS500 *train* photos (synthetic blur).

30 training photos, each sharp, blurred by camera shake or linear motion (9-31 px), and by
defocus or a Gaussian; 1 % noise. Prints, for the shipped (or given) weights, the score
threshold that best separates sharp from blurred and the motion-probability threshold that
best separates motion from defocus (highest balanced accuracy), the values
``pydeblur.nets.blur_map`` uses as BLURRED_THRESHOLD and MOTION_THRESHOLD.

    python benchmarks/calibrate_blur_detect.py [WEIGHTS]
"""

import sys
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur import psf
from pydeblur.io import imread, list_images
from pydeblur.nets.blur_map import SCORE_QUANTILE, BlurDetector
from pydeblur.synth import degrade

DATA = Path(__file__).resolve().parents[2] / "shared/data/bsds500/train"
WEIGHTS = sys.argv[1] if len(sys.argv) > 1 else "blur-map"


def best_threshold(positives, negatives):
    candidates = np.unique(np.concatenate([positives, negatives]))
    accuracy = [(np.mean(positives >= t) + np.mean(negatives < t)) / 2 for t in candidates]
    i = int(np.argmax(accuracy))
    upper = candidates[i]
    lower = max([c for c in candidates if c < upper], default=upper)
    return (lower + upper) / 2, accuracy[i]


def main():
    detector = BlurDetector(WEIGHTS)
    rng = np.random.default_rng(11)
    sharp, blurred, motion_p, defocus_p = [], [], [], []
    for i, path in enumerate(list_images(DATA)[:30]):
        photo = imread(path)
        noisy = degrade(photo, psf=np.ones((1, 1)), noise_sigma=0.01, rng=i)[0]
        sharp.append(np.quantile(detector.map(noisy), SCORE_QUANTILE))
        shake = (psf.trajectory(31, length=rng.uniform(9, 40), rng=i) if i % 2 else
                 psf.motion(rng.uniform(9, 31), rng.uniform(0, 180)))
        focus = psf.defocus(rng.uniform(2, 8)) if i % 2 else psf.gaussian(rng.uniform(1.5, 4))
        for kernel, store in ((shake, motion_p), (focus, defocus_p)):
            degree, motion = detector.maps(degrade(photo, psf=kernel, noise_sigma=0.01, rng=i)[0])
            blurred.append(np.quantile(degree, SCORE_QUANTILE))
            store.append(float((motion * (degree + 1e-6)).sum() / (degree + 1e-6).sum()))
    score_t, score_acc = best_threshold(np.array(blurred), np.array(sharp))
    motion_t, motion_acc = best_threshold(np.array(motion_p), np.array(defocus_p))
    rows = [("blurred vs sharp: score", f"{score_t:.3f}", f"{score_acc:.3f}",
             f"sharp max {max(sharp):.3f}, blurred min {min(blurred):.3f}"),
            ("motion vs defocus: weighted motion probability", f"{motion_t:.3f}", f"{motion_acc:.3f}",
             f"motion mean {np.mean(motion_p):.3f}, defocus mean {np.mean(defocus_p):.3f}")]
    report("calibrate_blur_detect", "Blur detection thresholds (BSDS train, synthetic)",
           markdown_table(["decision", "threshold", "balanced accuracy", "spread"], rows),
           f"python benchmarks/calibrate_blur_detect.py {WEIGHTS}")


if __name__ == "__main__":
    main()
