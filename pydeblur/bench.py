"""``pydeblur bench``: every method on the same images, and pydeblur's speed against its peers.

:func:`quality` synthesises one blurred set from a folder of sharp photos (PSF
families x noise levels, 'valid' blur) and runs every method on it: non-blind
methods get the true PSF, blind methods and networks do not. :func:`speed` times
pydeblur's filters against scikit-image and OpenCV on the same arrays in one run.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def best_time(func, *, repeat: int = 5, warmup: int = 1) -> float:
    """Minimum wall time of ``func()`` over ``repeat`` runs, in seconds, after warm-up."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def markdown_table(header, rows) -> str:
    """A markdown table from a header and rows of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def per_channel(func, image):
    """``func`` applied to each channel of a colour image (or to a grey one), stacked."""
    if image.ndim == 2:
        return func(image)
    return np.stack([func(image[:, :, c]) for c in range(image.shape[2])], axis=2)


def speed_cases(image, kernel, *, rl_iterations: int = 30):
    """``(name, peer, peer_func, pydeblur_func)`` for one image: convolution, Wiener, RL.

    pydeblur runs with the periodic boundary that scikit-image's solvers assume;
    scikit-image runs per channel on colour (it has no colour support).
    """
    import cv2
    import scipy.signal
    import skimage.restoration as ski

    from .operators import convolve
    from .restoration import richardson_lucy, wiener

    flipped = np.ascontiguousarray(kernel[::-1, ::-1]).astype(image.dtype)
    return [
        ("convolve (reflect)", "cv2.filter2D",
         lambda: cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT),
         lambda: convolve(image, kernel, boundary="reflect")),
        ("convolve (reflect)", "scipy fftconvolve",
         lambda: per_channel(lambda im: scipy.signal.fftconvolve(
             np.pad(im, kernel.shape[0] // 2, mode="symmetric"), kernel, mode="valid"), image),
         lambda: convolve(image, kernel, boundary="reflect")),
        ("wiener", "skimage wiener",
         lambda: per_channel(lambda im: ski.wiener(im, kernel, 0.01, clip=False), image),
         lambda: wiener(image, kernel, balance=0.01, boundary="periodic")),
        (f"richardson_lucy x{rl_iterations}", "skimage richardson_lucy",
         lambda: per_channel(lambda im: ski.richardson_lucy(im, kernel, rl_iterations, clip=False), image),
         lambda: richardson_lucy(image, kernel, max_iter=rl_iterations, boundary="periodic")),
    ]


def speed(size: int = 1024, *, psf_size: int = 31, repeat: int = 3, dtypes=(np.float32,),
          colours=(False, True)) -> list[tuple]:
    """Rows ``(operation, image, peer, peer ms, pydeblur ms, speed-up)``, measured in one run."""
    from . import psf

    kernel = psf.motion(psf_size, 30, size=psf_size)
    rng = np.random.default_rng(0)
    rows = []
    for dtype in dtypes:
        for colour in colours:
            image = rng.random((size, size, 3) if colour else (size, size)).astype(dtype)
            label = f"{'RGB' if colour else 'grey'} {np.dtype(dtype).name}"
            for name, peer, theirs, ours in speed_cases(image, kernel):
                t_theirs, t_ours = (best_time(f, repeat=repeat) for f in (theirs, ours))
                rows.append((name, label, peer, f"{t_theirs * 1e3:.1f}", f"{t_ours * 1e3:.1f}",
                             f"{t_theirs / t_ours:.1f}x"))
    return rows


def available_methods(names=None) -> list[str]:
    """The methods of :data:`pydeblur.methods.METHODS` that can run here (networks and
    plug-and-play need torch and their shipped weights). Unavailable names given explicitly
    are an error."""
    from .methods import METHODS

    def runnable(name):
        needed = METHODS[name].weights
        if needed is None:
            return True, ""
        try:
            from .nets import shipped_names
        except ImportError:
            return False, "torch is not installed"
        return (needed in shipped_names(), f"no shipped {needed} weights")

    chosen = list(METHODS) if names is None else list(names)
    result = []
    for name in chosen:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}.")
        ok, why = runnable(name)
        if ok:
            result.append(name)
        elif names is not None:
            raise ValueError(f"method {name!r} cannot run here: {why}.")
        else:
            print(f"bench: skipping {name}: {why}")
    return result


def synthesise_cases(sharp_dir, *, n_images: int, crop: int, families, noise_levels, max_size: int,
                     seed: int) -> list[dict]:
    """Blurred crops: every photo x family x noise level, 'valid' blur, reproducible from ``seed``."""
    from .io import imread, list_images
    from .synth import PSFSampler, degrade

    paths = list_images(sharp_dir)[:n_images]
    if not paths:
        raise ValueError(f"{sharp_dir} holds no images.")
    rng = np.random.default_rng(seed)
    cases = []
    for path in paths:
        photo = imread(path, alpha="drop", dtype=np.float64)
        side = crop + max_size - 1
        if min(photo.shape[:2]) < side:
            raise ValueError(f"{path} is smaller than the {side}px crop needed; lower --crop.")
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        window = photo[top : top + side, left : left + side]
        for family in families:
            kernel, _ = PSFSampler([family], max_size=max_size)(rng)
            for noise in noise_levels:
                blurry, sharp, _ = degrade(window, psf=kernel, noise_sigma=noise, rng=rng)
                cases.append({"name": path.stem, "family": family, "noise": noise, "psf": kernel,
                              "blurry": blurry.astype(np.float32), "sharp": sharp})
    return cases


def run_method(name: str, case: dict, *, blind_prior: str = "l0", networks=None):
    """Restore one case with a method (blind methods with ``blind_prior``); returns (restored, seconds).

    ``networks`` maps network names to loaded Deblurrers, so that weights are read once.
    """
    from .methods import METHODS, make, psf_size_for

    kind = METHODS[name].kind
    if kind == "non-blind":
        deblurrer = make(name, psf=case["psf"], clip=True)
    elif kind == "blind":
        deblurrer = make(name, psf_size=psf_size_for(case["psf"].shape), prior=blind_prior, clip=True)
    else:
        deblurrer = (networks or {}).get(name) or make(name)
    start = time.perf_counter()
    restored = np.clip(deblurrer.restore(case["blurry"]), 0, 1)
    return restored, time.perf_counter() - start


def quality(sharp_dir, *, methods=None, n_images: int = 4, crop: int = 192, families=None,
            noise_levels=(0.01,), max_size: int = 21, seed: int = 0, blind_prior: str = "l0",
            progress: bool = True):
    """Every method on the same synthesised set (the blind method with ``blind_prior``).

    Returns
    -------
    table : list of tuple
        ``(method, kind, family, noise, PSNR, SSIM, seconds)`` averaged over the photos;
        PSNR / SSIM after the best integer shift within 10 px with a 15 px border (the
        blind protocol, applied to every method alike), plus 'blurry input' rows.
    cases : list of dict
        The synthesised cases, each with the ``restored`` images by method.
    """
    from tqdm import tqdm

    from .methods import METHODS, make
    from .synth import FAMILIES

    names = available_methods(methods)
    networks = {name: make(name) for name in names if METHODS[name].kind == "network"}
    cases = synthesise_cases(sharp_dir, n_images=n_images, crop=crop, families=families or FAMILIES,
                             noise_levels=noise_levels, max_size=max_size, seed=seed)
    scores = {}
    with tqdm(total=len(cases) * len(names), unit="run", disable=not progress) as bar:
        for case in cases:
            case["restored"] = {"blurry input": case["blurry"]}
            for name in ["blurry input", *names]:
                if name == "blurry input":
                    restored, seconds = case["blurry"], 0.0
                else:
                    bar.set_postfix_str(name)
                    restored, seconds = run_method(name, case, blind_prior=blind_prior, networks=networks)
                    case["restored"][name] = restored
                    bar.update()
                key = (name, case["family"], case["noise"])
                scores.setdefault(key, []).append((*_scores(restored, case["sharp"]), seconds))
    table = []
    for (name, family, noise), values in scores.items():
        kind = "" if name == "blurry input" else METHODS[name].kind
        mean = np.mean(values, axis=0)
        table.append((name, kind, family, noise, *mean))
    return table, cases


def _scores(image, reference):
    from .metrics import psnr_upto_shift, ssim_upto_shift

    return psnr_upto_shift(image, reference), ssim_upto_shift(image, reference)


def summary_rows(table) -> list[tuple]:
    """Per method over all families and noise levels: mean PSNR, SSIM, seconds."""
    by_method = {}
    for name, kind, _, _, p, s, t in table:
        by_method.setdefault((name, kind), []).append((p, s, t))
    rows = [(name, kind, *np.mean(v, axis=0)) for (name, kind), v in by_method.items()]
    return sorted(rows, key=lambda r: -r[2])


def write_plot(table, path: Path) -> Path:
    """Bar chart of PSNR per method and PSF family (needs matplotlib, the ``plot`` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("the plot needs matplotlib: python -m pip install \"pydeblur[plot]\"") from error
    methods = list(dict.fromkeys(r[0] for r in table))
    families = list(dict.fromkeys(r[2] for r in table))
    psnr = {m: {f: np.mean([r[4] for r in table if r[0] == m and r[2] == f]) for f in families}
            for m in methods}
    fig, ax = plt.subplots(figsize=(1.2 + 1.3 * len(families), 4))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        ax.bar(np.arange(len(families)) + i * width, [psnr[method][f] for f in families], width, label=method)
    ax.set_xticks(np.arange(len(families)) + 0.4 - width / 2, families)
    ax.set_ylabel("PSNR (dB)")
    low = min(min(v.values()) for v in psnr.values())
    ax.set_ylim(low - 2, None)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    import io

    from .io import write_bytes_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue(), overwrite=True)


def crop_montage(case: dict, *, size: int = 96) -> np.ndarray:
    """Centre crops of the sharp, blurry and every restored image of one case, side by side."""
    from .viz import montage

    h, w = case["sharp"].shape[:2]
    top, left = (h - size) // 2, (w - size) // 2

    def cut(image):
        return image[top : top + size, left : left + size]

    panels = [cut(case["sharp"])] + [cut(img) for img in case["restored"].values()]
    labels = ["sharp"] + [name[:14] for name in case["restored"]]
    return montage(panels, labels, psf=case["psf"])
