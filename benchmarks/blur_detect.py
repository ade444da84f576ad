"""Blur detection: whole-photo ROC AUC, pixel AUC of the blur map, seconds per megapixel.

Whole photos, synthetic: 40 BSDS500 *val* photos (never trained on), each once sharp and
once blurred ('valid', 1 % noise) by a camera-shake trajectory of 9-31 px or a defocus disk
of radius 2-8 px (alternating), scored by ``blur_score``.

Whole photos, real: blurred = the three real camera-shake photos of ``real_blur_dev`` and
the GoPro frame averages of ``gopro_dev``; sharp = the sharp GoPro frames and scikit-image's
bundled photos (another collection than BSDS500; the grey textures brick, grass and gravel
included, the hard cases for a blur detector).

Blur map: 20 BSDS val photos with one half (left, right, top or bottom in turn) blurred by a
15 px linear motion at a random angle, 1 % noise; the pixel AUC of ``blur_map`` against the
half that was blurred, every pixel counted, mean and worst over the photos.

Speed: ``blur_map`` on a 1 MP and a 12 MP colour photo, best of three, 2 CPU cores.

    python benchmarks/blur_detect.py [--quick]
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, report

from pydeblur import psf
from pydeblur.io import imread, list_images
from pydeblur.nets.blur_map import BlurDetector
from pydeblur.operators import convolve
from pydeblur.synth import degrade

QUICK = "--quick" in sys.argv
DATA = Path(__file__).resolve().parents[2] / "shared/data"
OTHER_SHARP = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "brick", "grass", "gravel")


def _skimage_photo(name):
    import skimage.data
    from skimage import img_as_float32

    return img_as_float32(getattr(skimage.data, name)())


def auc(positives, negatives) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    positives, negatives = np.asarray(positives, float), np.asarray(negatives, float)
    order = np.argsort(np.concatenate([positives, negatives]), kind="mergesort")
    ranks = np.empty(order.size)
    values = np.concatenate([positives, negatives])[order]
    ranks[order] = np.arange(1, order.size + 1)
    for value in np.unique(values):  # average ranks of ties
        tied = order[values == value]
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positives.size, negatives.size
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def synthetic_photos(detector):
    rng = np.random.default_rng(3)
    sharp_scores, blurred_scores = [], []
    for i, path in enumerate(list_images(DATA / "bsds500/val")[: 10 if QUICK else 40]):
        photo = imread(path)
        kernel = (psf.trajectory(31, length=rng.uniform(9, 40), rng=i) if i % 2 == 0
                  else psf.defocus(rng.uniform(2, 8)))
        blurry, sharp, _ = degrade(photo, psf=kernel, noise_sigma=0.01, rng=i)
        sharp_scores.append(detector.judge(sharp)["score"])
        blurred_scores.append(detector.judge(blurry)["score"])
    return sharp_scores, blurred_scores


def real_photos(detector):
    blurred = {p.name: p for p in sorted((DATA / "real_blur_dev").glob("*.jpg"))}
    blurred.update({f"gopro blur {p.name}": p for p in sorted((DATA / "gopro_dev/blur").glob("*.png"))})
    sharp = {f"gopro sharp {p.name}": imread(p) for p in sorted((DATA / "gopro_dev/sharp").glob("*.png"))}
    sharp.update({f"scikit-image {name}": _skimage_photo(name) for name in OTHER_SHARP})
    rows, scores = [], {"blurred": [], "sharp": []}
    for label, source in [*(("blurred", (n, imread(p))) for n, p in blurred.items()),
                          *(("sharp", item) for item in sharp.items())]:
        name, image = source
        result = detector.judge(image)
        scores[label].append(result["score"])
        rows.append((name, label, f"{result['score']:.3f}", result["kind"]))
    return scores, rows


def half_blurred_maps(detector):
    rng = np.random.default_rng(5)
    values = []
    for i, path in enumerate(list_images(DATA / "bsds500/val")[40 : 45 if QUICK else 60]):
        photo = imread(path)
        kernel = psf.motion(15, rng.uniform(0, 180))
        blurred = convolve(photo, kernel, boundary="reflect")
        mask = np.zeros(photo.shape[:2], bool)
        h, w = mask.shape
        side = i % 4
        if side == 0:
            mask[:, : w // 2] = True
        elif side == 1:
            mask[:, w // 2 :] = True
        elif side == 2:
            mask[: h // 2] = True
        else:
            mask[h // 2 :] = True
        image = np.where(mask[..., None], blurred, photo)
        image = np.clip(image + rng.normal(0, 0.01, image.shape), 0, 1).astype(np.float32)
        degree = detector.map(image)
        values.append(auc(degree[mask], degree[~mask]))
    return values


def speed(detector):
    rows = []
    for h, w in ((768, 1365), (3000, 4000)):
        image = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
        times = []
        for _ in range(1 if QUICK else 3):
            start = time.perf_counter()
            detector.map(image)
            times.append(time.perf_counter() - start)
        mp = h * w / 1e6
        rows.append((f"{w}x{h} ({mp:.1f} MP)", f"{min(times):.2f}", f"**{min(times) / mp:.3f}**"))
    return rows


def main():
    detector = BlurDetector()
    sharp_scores, blurred_scores = synthetic_photos(detector)
    real_scores, real_rows = real_photos(detector)
    pixel = half_blurred_maps(detector)
    summary = [
        (f"synthetic: {len(blurred_scores)} BSDS val photos blurred vs the same sharp",
         f"**{auc(blurred_scores, sharp_scores):.3f}**", ">= 0.95 (real)"),
        (f"real: {len(real_scores['blurred'])} blurred vs {len(real_scores['sharp'])} sharp photos",
         f"**{auc(real_scores['blurred'], real_scores['sharp']):.3f}**", ">= 0.95"),
        (f"blur map, pixel AUC on {len(pixel)} half-blurred photos (15 px motion): mean",
         f"**{np.mean(pixel):.3f}**", ">= 0.9"),
        ("blur map, pixel AUC: worst photo", f"{np.min(pixel):.3f}", ""),
    ]
    body = (markdown_table(["measure", "AUC", "target"], summary) + "\n\n### Real photos\n\n"
            + markdown_table(["photo", "truth", "blur_score", "kind"], real_rows) + "\n\n### Speed\n\n"
            + markdown_table(["photo", "blur_map s", "s / MP"], speed(detector)))
    report("blur_detect", "Blur detection", body, "python benchmarks/blur_detect.py")


if __name__ == "__main__":
    main()
