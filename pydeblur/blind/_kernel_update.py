"""Kernel step of blind deconvolution: least squares on gradients, then clean-up."""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy import ndimage

from ..psf._utils import center, normalize


def _gradients(x):
    return np.roll(x, -1, axis=1) - x, np.roll(x, -1, axis=0) - x


def estimate_kernel(latent: np.ndarray, blurry: np.ndarray, size: int, *, gamma: float) -> np.ndarray:
    """``argmin_k ||grad(x) * k - grad(y)||^2 + gamma ||k||^2`` on a periodic grid, cleaned.

    Solved in closed form with FFTs; the result is cut to ``size`` around the centre,
    then cleaned: negative values and values below 5 % of the peak are removed, and
    connected components holding little mass (stray speckles) are dropped; finally the
    kernel is normalised to sum 1 and re-centred on its centroid.
    """
    shape = latent.shape
    numerator = np.zeros((shape[0], shape[1] // 2 + 1), dtype=np.complex128)
    denominator = np.full(numerator.shape, gamma, dtype=np.float64)
    for gx, gy in zip(_gradients(latent), _gradients(blurry), strict=True):
        fx, fy = scipy.fft.rfft2(gx), scipy.fft.rfft2(gy)
        numerator += np.conj(fx) * fy
        denominator += np.abs(fx) ** 2
    full = scipy.fft.irfft2(numerator / denominator, s=shape)
    half = size // 2
    kernel = np.roll(full, (half, half), axis=(0, 1))[:size, :size]
    return clean_kernel(kernel)


def clean_kernel(kernel: np.ndarray, *, threshold: float = 0.05, min_mass: float = 0.1) -> np.ndarray:
    """Non-negative, pruned, connected, unit-sum, centred version of a raw kernel estimate."""
    kernel = np.clip(kernel, 0, None)
    peak = kernel.max()
    if peak <= 0:
        delta = np.zeros_like(kernel)
        delta[kernel.shape[0] // 2, kernel.shape[1] // 2] = 1.0
        return delta
    kernel[kernel < threshold * peak] = 0
    labels, count = ndimage.label(kernel > 0, structure=np.ones((3, 3)))
    if count > 1:
        masses = ndimage.sum(kernel, labels, index=np.arange(1, count + 1))
        keep = np.flatnonzero(masses >= min_mass * masses.max()) + 1
        kernel = np.where(np.isin(labels, keep), kernel, 0)
    return center(normalize(kernel))
