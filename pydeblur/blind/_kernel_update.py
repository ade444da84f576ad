"""Kernel step of blind deconvolution: least squares on gradients, then clean-up."""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
import scipy.signal
from scipy import ndimage

from ..operators import BlurOperator
from ..psf._utils import center, normalize


def _gradients(x):
    """Periodic forward differences along columns and rows (as every solver takes them)."""
    from ..restoration._kernels import forward_differences

    gx, gy = np.empty_like(x), np.empty_like(x)
    forward_differences(x, gx, gy)
    return gx, gy


def salient_gradients(latent: np.ndarray, size: int, threshold: float | None = None):
    """The latent image's gradients with the weak ones zeroed, and the threshold used.

    Without a ``threshold``, the largest one is chosen that keeps at least
    ``20 * size`` gradients in each of four orientation bins (Cho & Lee 2009), so
    that every direction of the kernel stays constrained.
    """
    gx, gy = _gradients(latent)
    magnitude = gx**2 + gy**2
    if threshold is None:
        angle = np.arctan2(gy, gx) % np.pi  # orientation, sign ignored
        bins = np.minimum((angle / (np.pi / 4)).astype(int), 3)
        keep = max(20 * size, 10)
        threshold = min(np.sort(magnitude[bins == b])[-keep] if np.count_nonzero(bins == b) >= keep
                        else 0.0 for b in range(4))
    mask = magnitude >= threshold
    return gx * mask, gy * mask, threshold


def estimate_kernel(observations, size: int, *, gamma: float, relative: bool = False, n_cg: int = 20,
                    faint: bool = False) -> np.ndarray:
    """``argmin_k sum_f ||grad(x_f) * k - grad(y_f)||^2 + gamma ||k||^2`` over size x size kernels.

    ``observations`` is a list of ``(latent_gradients, blurry)``, one per frame that shares
    the kernel (usually one): the (possibly thresholded) horizontal and vertical forward
    differences of the frame's latent image, and the frame's (extended) blurry image.
    The frames' normal equations add up. With ``relative``, ``gamma`` is a share of the
    latent gradients' energy (``sum_f ||grad(x_f)||^2``, the normal matrix's diagonal):
    the weight then means the same on a small or a large image, with few or many salient
    gradients, at any contrast.

    The normal equations are solved by ``n_cg`` conjugate-gradient steps from a flat
    kernel, with the kernel confined to its support. Their matrix is a convolution with
    the latent gradients' autocorrelation, of which only the lags within the kernel's
    size matter: it is taken once from the image-sized spectra and then applied at the
    kernel's scale, so a CG step costs a (3 size)^2 FFT, not an image-sized one.
    Solving over the whole grid and cutting afterwards leaks the solution's energy
    outside the support and leaves a diffuse, speckled kernel.
    The result is cleaned (:func:`clean_kernel`): negative values and values below 5 % of
    the peak are removed, connected components holding little mass are dropped (with
    ``faint``, the faint values that touch the remaining strokes are kept), and the kernel
    is normalised to sum 1 and re-centred on its centroid.
    """
    half = size // 2
    autocorrelation = np.zeros((2 * size - 1, 2 * size - 1))  # lags -(size-1) .. size-1
    rhs = np.zeros((size, size))
    for latent_gradients, blurry in observations:
        shape = blurry.shape
        gram = np.zeros((shape[0], shape[1] // 2 + 1), dtype=np.float64)
        correlation = np.zeros(gram.shape, dtype=np.complex128)
        for latent, observed in zip(latent_gradients, _gradients(blurry), strict=True):
            by_latent = BlurOperator.from_otf(scipy.fft.rfft2(latent), shape, workers=1)  # k -> grad(x) * k
            correlation += by_latent.data_term(observed)
            gram += by_latent.gram
        autocorrelation += _centred_lags(scipy.fft.irfft2(gram, s=shape), size - 1)
        rhs += _centred_lags(scipy.fft.irfft2(correlation, s=shape), half)

    if relative:
        gamma = gamma * autocorrelation[size - 1, size - 1]

    def normal_operator(kernel):
        return gamma * kernel + scipy.signal.fftconvolve(kernel, autocorrelation, mode="same")

    kernel = np.full((size, size), 1.0 / size**2)
    residual = rhs - normal_operator(kernel)
    direction = residual.copy()
    energy = np.vdot(residual, residual)
    for _ in range(n_cg):
        step_image = normal_operator(direction)
        alpha = energy / np.vdot(direction, step_image)
        kernel = kernel + alpha * direction
        residual = residual - alpha * step_image
        new_energy = np.vdot(residual, residual)
        if new_energy < 1e-20:
            break
        direction = residual + (new_energy / energy) * direction
        energy = new_energy
    return clean_kernel(kernel, faint=faint)


def remove_edge_blur(kernel: np.ndarray, sigma: float, *, n_iter: int = 30) -> np.ndarray:
    """The kernel deconvolved by a Gaussian of ``sigma`` px (Richardson-Lucy), then cleaned.

    A kernel estimated against an L0 latent image, whose edges are ideal steps, also
    takes in the softness that the camera's optics, sensor and demosaicing give every
    edge of the photo: it comes out as the shake convolved with that blur. Removing a
    Gaussian of about half a pixel recovers the thinner strokes of the shake. Richardson-Lucy
    keeps the kernel non-negative, and ``n_iter`` bounds how far it sharpens; the result
    is cleaned with its faint values (:func:`clean_kernel`).
    """
    if sigma == 0:
        return kernel
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma**2))
    taps /= taps.sum()

    def blur(image):
        return ndimage.convolve1d(ndimage.convolve1d(image, taps, axis=0, mode="constant"), taps, axis=1,
                                  mode="constant")

    observed = np.pad(kernel, radius)
    estimate = observed + 1e-12
    for _ in range(n_iter):  # the taps are symmetric: the blur is its own adjoint
        estimate *= blur(observed / np.maximum(blur(estimate), 1e-12))
    return clean_kernel(estimate[radius:-radius, radius:-radius], faint=True)


def _centred_lags(periodic: np.ndarray, reach: int) -> np.ndarray:
    """The ``(2 reach + 1)^2`` values of a periodic array around index (0, 0), lag 0 at the centre."""
    return np.roll(periodic, (reach, reach), axis=(0, 1))[: 2 * reach + 1, : 2 * reach + 1]


#: Share of the peak below which a kernel value counts as noise of the estimate.
STRONG_THRESHOLD = 0.05
#: With ``faint=True``, values down to this share of the peak are kept where they touch
#: the strokes (within one pixel). Real camera shake dwells: a bright blob where the camera
#: nearly stopped, faint strokes where it moved fast, and the true kernels of the Levin 2009
#: development half hold 2-9 % of their mass below 5 % of the peak (their PSNR with the
#: true kernel cut at 5 %: up to 4 dB lower). Kept anywhere, such values are speckle;
#: kept next to the strokes they are the shake's faint parts (see
#: ``pydeblur.blind._estimate.FAINT_ROUNDS`` for the figures).
FAINT_THRESHOLD = 0.005


def clean_kernel(kernel: np.ndarray, *, threshold: float = STRONG_THRESHOLD, min_mass: float = 0.1,
                 faint: bool = False) -> np.ndarray:
    """Non-negative, pruned, connected, unit-sum, centred version of a raw kernel estimate.

    Values below ``threshold`` times the peak are removed, then the connected components
    holding less than ``min_mass`` times the heaviest one's mass. With ``faint``, values of
    at least ``FAINT_THRESHOLD`` times the peak next to (8-connected with) the remaining
    strokes are put back.
    """
    kernel = np.clip(kernel, 0, None)
    peak = kernel.max()
    if peak <= 0:
        delta = np.zeros_like(kernel)
        delta[kernel.shape[0] // 2, kernel.shape[1] // 2] = 1.0
        return delta
    strokes = (kernel > 0) & (kernel >= threshold * peak)
    labels, count = ndimage.label(strokes, structure=np.ones((3, 3)))
    if count > 1:
        masses = ndimage.sum(kernel, labels, index=np.arange(1, count + 1))
        strokes = np.isin(labels, np.flatnonzero(masses >= min_mass * masses.max()) + 1)
    if faint:
        touching = ndimage.binary_dilation(strokes, structure=np.ones((3, 3)))
        strokes |= touching & (kernel >= FAINT_THRESHOLD * peak)
    return center(normalize(np.where(strokes, kernel, 0.0)))
