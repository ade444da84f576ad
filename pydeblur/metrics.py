"""Image and kernel quality measures: PSNR, SSIM, shift-tolerant PSNR, kernel similarity."""

from __future__ import annotations

import numpy as np
import scipy.signal

from ._validation import check_image, check_number
from .psf._utils import _as_kernel


def _check_pair(image, reference):
    image = check_image(image, name="image")
    reference = check_image(reference, name="reference")
    if image.shape != reference.shape:
        raise ValueError(
            f"image shape {image.shape} differs from reference shape {reference.shape}; "
            "compare images of the same size (crop a 'valid' blur's reference to match)."
        )
    return image.astype(np.float64), reference.astype(np.float64)


def _psnr_from_mse(mse: float, data_range: float) -> float:
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def psnr(image, reference, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB.

    Parameters
    ----------
    image, reference : numpy.ndarray
        Float images of the same shape.
    data_range : float
        Peak value of the signal (1.0 for images in [0, 1]); never guessed from data.

    Returns
    -------
    float
        ``10 log10(data_range**2 / MSE)``; ``inf`` for identical images.
    """
    image, reference = _check_pair(image, reference)
    data_range = check_number(data_range, name="data_range", low=0, low_inclusive=False)
    return _psnr_from_mse(float(np.mean((image - reference) ** 2)), data_range)


def ssim(image, reference, *, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004, Gaussian window sigma 1.5), mean over channels.

    Parameters
    ----------
    image, reference : numpy.ndarray
        Float images of the same shape, at least 7x7.
    data_range : float
        Peak value of the signal.
    """
    from skimage.metrics import structural_similarity

    image, reference = _check_pair(image, reference)
    data_range = check_number(data_range, name="data_range", low=0, low_inclusive=False)
    if min(image.shape[:2]) < 7:
        raise ValueError(f"ssim needs images of at least 7x7 pixels, got {image.shape[:2]}.")
    return float(structural_similarity(
        image, reference, data_range=data_range, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1 if image.ndim == 3 else None,
    ))


def best_shift(image, reference, *, max_shift: int = 10, border: int = 15) -> tuple[int, int]:
    """Integer shift ``(dy, dx)`` of ``image`` that best matches ``reference`` (least MSE).

    ``image[border + dy : H - border + dy, ...]`` is compared with
    ``reference[border : H - border, ...]`` for every ``|dy|, |dx| <= max_shift``.

    Parameters
    ----------
    image, reference : numpy.ndarray
        Float images of the same shape.
    max_shift : int
        Largest shift tried along each axis, >= 0.
    border : int
        Pixels ignored along every edge of the reference, >= max_shift.
    """
    image, reference = _check_pair(image, reference)
    max_shift = check_number(max_shift, name="max_shift", low=0, integer=True)
    border = check_number(border, name="border", low=0, integer=True)
    if border < max_shift:
        raise ValueError(f"border ({border}) must be at least max_shift ({max_shift}).")
    h, w = reference.shape[:2]
    if h - 2 * border < 1 or w - 2 * border < 1:
        raise ValueError(f"border {border} leaves nothing of a {h}x{w} image.")
    target = reference[border : h - border, border : w - border]
    best, best_mse = (0, 0), np.inf
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            moved = image[border + dy : h - border + dy, border + dx : w - border + dx]
            mse = float(np.mean((moved - target) ** 2))
            if mse < best_mse:
                best, best_mse = (dy, dx), mse
    return best


def _window(image, border, shift_y, shift_x):
    """``image`` seen from ``border`` px in, moved by a possibly fractional shift (bilinear)."""
    h, w = image.shape[:2]
    base_y, base_x = int(np.floor(shift_y)), int(np.floor(shift_x))
    frac_y, frac_x = shift_y - base_y, shift_x - base_x

    def at(dy, dx):
        return image[border + dy : h - border + dy, border + dx : w - border + dx]

    top = (1 - frac_x) * at(base_y, base_x) + (frac_x * at(base_y, base_x + 1) if frac_x else 0)
    if not frac_y:
        return top
    bottom = (1 - frac_x) * at(base_y + 1, base_x) + (frac_x * at(base_y + 1, base_x + 1) if frac_x else 0)
    return (1 - frac_y) * top + frac_y * bottom


def aligned_windows(image, reference, *, max_shift: int = 10, border: int = 15, step: float = 1.0):
    """The windows of ``image`` and ``reference`` that shift-tolerant measures compare.

    The best integer shift within ``max_shift`` (:func:`best_shift`); with ``step`` below 1,
    then the best fractional shift within 1 px of it on a grid of ``step`` px, the image
    resampled bilinearly. Published blind-deblurring figures on the Levin 2009 captures
    search 0.25 px steps (Levin et al.'s ``comp_upto_shift``, SelfDeblur's
    ``statistic_levin.m``): a blind estimate places the image only up to a fraction of a
    pixel, and a half-pixel offset alone costs a sharp 255x255 restoration 2-4 dB.

    Returns
    -------
    moved, target : numpy.ndarray
        float64 windows of the same shape, ``border`` px in from the reference's edges.
    """
    step = check_number(step, name="step", low=0, high=1, low_inclusive=False)
    dy, dx = best_shift(image, reference, max_shift=max_shift, border=border)
    image, reference = _check_pair(image, reference)
    h, w = reference.shape[:2]
    target = reference[border : h - border, border : w - border]
    if step == 1:
        return _window(image, border, dy, dx), target
    if border <= max_shift:
        raise ValueError(f"a fractional step needs border ({border}) above max_shift ({max_shift}): "
                         "the resampled window reaches one pixel further.")
    fractions = np.arange(-1 + step, 1 - step / 2, step)
    best, best_mse = (dy, dx), np.inf
    for fy in fractions:
        for fx in fractions:
            candidate = (dy + fy, dx + fx)
            mse = float(np.mean((_window(image, border, *candidate) - target) ** 2))
            if mse < best_mse:
                best, best_mse = candidate, mse
    return _window(image, border, *best), target


def psnr_upto_shift(image, reference, *, max_shift: int = 10, border: int = 15,
                    data_range: float = 1.0, step: float = 1.0) -> float:
    """PSNR after the best alignment, with a border crop (blind-deblurring protocol).

    A blind method recovers the image only up to a translation (the kernel's centre
    is ambiguous), so restored and reference images are aligned by the best shift
    within ``max_shift`` pixels and compared away from a ``border``.

    Parameters
    ----------
    image, reference : numpy.ndarray
        Float images of the same shape.
    max_shift : int
        Largest shift tried along each axis.
    border : int
        Pixels ignored along every edge.
    data_range : float
        Peak value of the signal.
    step : float
        Resolution of the shift search in px: 1 (integer shifts), or a fraction such as
        0.25, the published protocol of the Levin 2009 captures (see
        :func:`aligned_windows`).
    """
    data_range = check_number(data_range, name="data_range", low=0, low_inclusive=False)
    moved, target = aligned_windows(image, reference, max_shift=max_shift, border=border, step=step)
    return _psnr_from_mse(float(np.mean((moved - target) ** 2)), data_range)


def ssim_upto_shift(image, reference, *, max_shift: int = 10, border: int = 15,
                    data_range: float = 1.0, step: float = 1.0) -> float:
    """SSIM at the alignment that :func:`psnr_upto_shift` uses, away from a ``border``."""
    moved, target = aligned_windows(image, reference, max_shift=max_shift, border=border, step=step)
    return ssim(moved, target, data_range=data_range)


def kernel_similarity(estimate, truth) -> float:
    """Peak normalised cross-correlation of two kernels over all shifts (Hu & Yang 2012).

    1 means the kernels are equal up to a translation and scale; 0 means no overlap.

    Parameters
    ----------
    estimate, truth : numpy.ndarray
        2-D kernels, any sizes.
    """
    estimate = _as_kernel(estimate, "estimate")
    truth = _as_kernel(truth, "truth")
    norms = np.linalg.norm(estimate) * np.linalg.norm(truth)
    if norms == 0:
        raise ValueError("kernel_similarity needs two non-zero kernels.")
    # FFT: the direct sum costs seconds for two 75 px kernels (side^4 products)
    return float(scipy.signal.correlate(estimate, truth, mode="full", method="fft").max() / norms)
