"""The degradation pipeline: sharp photo -> blurry, noisy, compressed photo."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_choice, check_image, check_number, check_psf
from ..operators import CONVOLVE_BOUNDARIES, convolve, convolve_spatially_varying
from ._camera import add_noise, crf, inverse_crf, jpeg
from ._sampler import PSFSampler


class DegradedPair(NamedTuple):
    """A synthesised training / test pair and how it was made."""

    blurry: np.ndarray
    sharp: np.ndarray
    meta: dict


def valid_crop(psf_shape) -> tuple[int, int]:
    """(top, left) margin of the sharp pixels aligned with a 'valid' blur's output."""
    return tuple(k - 1 - k // 2 for k in psf_shape[:2])


def degrade(sharp, *, psf=None, sampler=None, boundary: str = "valid", noise_sigma: float = 0.01,
            poisson_peak=None, gamma=None, exposure: float = 1.0, jpeg_quality=None,
            clip: bool = True, rng=None) -> DegradedPair:
    """Make a realistic blurry photo from a sharp one.

    Model, in order: undo the camera response (``x ** gamma``), scale by ``exposure``,
    blur with the PSF, clip at the sensor's white level (saturation), add Poisson and
    Gaussian noise, clip, reapply the camera response, JPEG-compress.

    Parameters
    ----------
    sharp : numpy.ndarray
        Float image in [0, 1], (H, W) or (H, W, C).
    psf : numpy.ndarray, optional
        The blur kernel, or a (gy, gx, h, w) grid of kernels for a blur that varies
        smoothly across the frame (as camera rotation makes; see
        :func:`pydeblur.operators.convolve_spatially_varying`). Default: one drawn by
        ``sampler``.
    sampler : callable, optional
        ``sampler(rng) -> (psf, info)``, e.g. :class:`PSFSampler`; used when ``psf`` is
        None (default ``PSFSampler()``). Give ``psf`` or ``sampler``, not both.
    boundary : {'valid', 'reflect', 'periodic', 'zero'}
        Blur boundary. 'valid' (the default) is how a camera sees a scene that goes
        on past the frame: the blurry image is smaller by the kernel size minus one
        and the returned sharp image is cropped to match.
    noise_sigma : float
        Standard deviation of Gaussian noise (in linear units when ``gamma`` is set).
    poisson_peak : float, optional
        Photon count at value 1 for shot noise; None for none.
    gamma : float, optional
        Camera response exponent (2.2 as in the GoPro dataset); None for a linear camera.
    exposure : float
        Gain on the linear scene before the sensor clips; > 1 saturates highlights.
    jpeg_quality : int, optional
        JPEG quality 1-100 of the final image; None for no compression.
    clip : bool
        Clip at the sensor's range [0, 1] after blurring and after noise. Needed for
        saturation and JPEG; turn off for the plain linear model ``k * x + n``.
    rng : int or numpy.random.Generator, optional
        Source of all randomness (PSF and noise); an int seed is recorded in ``meta``.

    Returns
    -------
    DegradedPair
        ``(blurry, sharp, meta)``; images in the input's dtype, ``meta`` holds the PSF
        (``meta["psf"]``), its family and parameters, and every setting above.
    """
    sharp = check_image(sharp, name="sharp")
    check_choice(boundary, CONVOLVE_BOUNDARIES, name="boundary")
    noise_sigma = check_number(noise_sigma, name="noise_sigma", low=0)
    exposure = check_number(exposure, name="exposure", low=0, low_inclusive=False)
    if jpeg_quality is not None and not clip:
        raise ValueError("jpeg_quality needs clip=True: JPEG stores values in [0, 1].")
    if exposure != 1.0 and not clip:
        raise ValueError("exposure only has an effect through saturation; it needs clip=True.")
    seed = int(rng) if isinstance(rng, (int, np.integer)) else None
    rng = np.random.default_rng(rng)
    if psf is not None and sampler is not None:
        raise ValueError("give either psf or sampler, not both.")
    if psf is None:
        psf, info = (sampler or PSFSampler())(rng)
    elif np.ndim(psf) == 4:
        psf, info = np.asarray(psf, dtype=np.float64), {"family": "given grid", "params": {}}
    else:
        psf, info = check_psf(psf, name="psf", image_shape=sharp.shape), {"family": "given", "params": {}}

    linear = sharp if gamma is None else inverse_crf(sharp, gamma=gamma)
    linear = linear * exposure if exposure != 1.0 else linear
    if psf.ndim == 4:
        blurred = convolve_spatially_varying(linear, psf, boundary=boundary)
    else:
        blurred = convolve(linear, psf, boundary=boundary)
    if boundary == "valid":
        top, left = valid_crop(psf.shape[-2:])
        linear = linear[top : top + blurred.shape[0], left : left + blurred.shape[1]]
    if clip:
        blurred, linear = np.clip(blurred, 0, 1), np.clip(linear, 0, 1)
    if noise_sigma > 0 or poisson_peak is not None:
        blurred = add_noise(blurred, sigma=noise_sigma, poisson_peak=poisson_peak, rng=rng)
        if clip:
            blurred = np.clip(blurred, 0, 1)
    if gamma is not None:
        blurred, linear = crf(blurred, gamma=gamma), crf(linear, gamma=gamma)
    if jpeg_quality is not None:
        blurred = jpeg(blurred, quality=jpeg_quality)
    meta = {
        "psf": psf,
        "psf_family": info["family"],
        "psf_params": info["params"],
        "boundary": boundary,
        "noise_sigma": noise_sigma,
        "poisson_peak": poisson_peak,
        "gamma": gamma,
        "exposure": exposure,
        "jpeg_quality": jpeg_quality,
        "clip": clip,
        "seed": seed,
    }
    dtype = sharp.dtype
    return DegradedPair(blurred.astype(dtype, copy=False), np.array(linear, dtype=dtype), meta)
