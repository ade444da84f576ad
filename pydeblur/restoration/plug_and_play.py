"""Plug-and-play deconvolution: half-quadratic splitting with a learned denoiser as the prior.

Needs the torch extra (the denoiser lives in :mod:`pydeblur.nets.denoiser`); this module
imports torch only when the function runs.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_image, check_number, check_psf
from ..base import store_params
from ..operators import (
    SOLVER_BOUNDARIES,
    BlurOperator,
    check_workers,
    clipped_highlights,
    pad_channel,
    padding_plan,
    seen_mask,
)
from ._base import NonBlindDeblurrer
from ._problem import check_callback, estimate_noise_sigma

#: Weight of the data term against the prior, mu = LAMBDA sigma^2 / s_k^2 (DPIR uses 0.23). With the
#: denoiser that sees grey images as they come (same noise in all three channels), PSNR at 0.25 / 0.35
#: / 0.5: Levin development half, true kernels 33.39 / 33.42 / 33.30 dB; 8 BSDS val crops x Levin
#: kernels, 1 % noise, 29.46 / 29.44 / 29.05; 3 colour BSDS val photos, 21 px shake, 1 % noise, 0.25
#: beats 0.5 by 0.3-1.0 dB. (0.5 suited the earlier denoiser, which under-denoised grey images.)
LAMBDA = 0.25
#: The denoiser strength the schedule starts from (image units).
START_SIGMA = 49 / 255
#: Default iterations (denoiser passes, most of the time). Levin 2009 development half, true
#: kernels / 24 BSDS val crops x Levin kernels (1 % noise) / Levin with the blind route's kernels:
#: 6 iterations 34.12 / 29.63 / 33.08 dB, 7 34.14 / 29.63 / 33.13, 8 34.15 / 29.60 / 33.16, 12
#: 34.13 / -, 16 34.09 / -; a known kernel gains nothing past 6, at a quarter less time than 8.
MAX_ITER = 6
#: Largest tile (px) the denoiser sees at once. Its 64-channel activations dominate the memory
#: of a large photo: with 640 px tiles a 12 MP colour photo grows memory by 7.3x its own size
#: (8.5x with 1024 px tiles); a side of 640-1024 px is cut in two overlapping tiles, not one.
DENOISER_TILE = 640
#: Conjugate-gradient steps of each data step, which fits the seen pixels only (the padding
#: stands for unseen scene; :meth:`~pydeblur.operators.BlurOperator.solve_seen`). Levin 2009
#: development half, true kernels / BSDS val x Levin kernels: 33.39 / 29.46 dB with one border
#: refill per data step (the earlier rule), 34.04 / 29.59 with 8 steps, 34.13 / 29.60 with 15,
#: 34.17 / 29.61 with 30; each step costs one FFT pair per channel.
DATA_STEP_ITERATIONS = 15
#: Smallest noise level 'auto' assumes: camera noise is rarely white, and the wavelet
#: estimate reads real captures low (Levin 2009: about 0.6/255 where 1.5/255 is reported).
MIN_AUTO_SIGMA = 1.5 / 255


def auto_noise_sigma(image: np.ndarray) -> float:
    """``noise_sigma='auto'``: the wavelet estimate (mean over channels), floored at MIN_AUTO_SIGMA."""
    return max(float(np.mean(estimate_noise_sigma(image))), MIN_AUTO_SIGMA)


def _schedule(noise_sigma: float, max_iter: int, start_sigma: float = START_SIGMA) -> np.ndarray:
    """Denoiser strengths from ``start_sigma`` down to the noise level, log-spaced (DPIR)."""
    end = max(noise_sigma, 1e-4)
    return np.geomspace(max(start_sigma, end), end, max_iter)


def _ensemble_denoise(denoise, image: np.ndarray, sigma: float) -> np.ndarray:
    """Mean of the denoiser over the 8 flips and quarter turns of the image (undone after)."""
    total = np.zeros_like(image)
    for turns in range(4):
        for flip in (False, True):
            view = np.rot90(image, turns)
            view = view[:, ::-1] if flip else view
            out = denoise(np.ascontiguousarray(view), sigma)
            out = out[:, ::-1] if flip else out
            total += np.rot90(out, -turns)
    return total / 8


def plug_and_play(image, psf, *, noise_sigma="auto", max_iter: int = MAX_ITER, denoiser: str = "denoiser",
                  boundary: str = "smooth", ensemble: bool = False, clip: bool = False, workers=None,
                  callback=None, device=None, precision: str = "auto") -> np.ndarray:
    """Non-blind deconvolution with a learned prior: plug-and-play half-quadratic splitting.

    Alternates a data step, ``x = argmin ||M (k * x - y)||^2 + mu_k ||x - z||^2`` on the
    boundary-extended grid, fitting only the pixels ``M`` the camera saw and recorded (the
    border stands for unseen scene, and clipped highlights,
    :func:`~pydeblur.operators.clipped_highlights`, hold no measure of the blur; conjugate
    gradients preconditioned by the closed-form solve,
    ``DATA_STEP_ITERATIONS`` steps from the last estimate), and a prior step,
    ``z = D(x, s_k)``: the CNN denoiser of :mod:`pydeblur.nets.denoiser` at strength
    ``s_k``. The strengths fall log-spaced from 49/255 to the noise level over
    ``max_iter`` iterations and ``mu_k = 0.25 sigma^2 / s_k^2`` (DPIR's schedule).

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, 3).
    psf : numpy.ndarray
        The PSF, 2-D (all channels) or (h, w, C).
    noise_sigma : 'auto' or float
        Noise standard deviation in image units. 'auto' estimates it from the image
        (wavelet MAD, mean over channels), floored at 1.5/255.
    max_iter : int
        Iterations, one denoiser pass each (``MAX_ITER``, 6: with a known kernel more
        gain nothing; with an estimated one, 8 gain about 0.1 dB).
    denoiser : str or os.PathLike
        The denoiser's weights: the shipped name or a file from ``pydeblur train-denoiser``.
    boundary : {'smooth', 'reflect', 'periodic'}
        How the image is extended before the FFT: the first guess of the unseen border,
        which the data steps then fit ('periodic': no border, closed-form data steps). The
        border is as wide as the kernel less one, the least in which no image pixel sees
        another through the wrap-around (``padding_plan(..., narrow=True)``): the denoiser
        and the FFTs see fewer pixels than on the solvers' usual grid, at the same PSNR.
    ensemble : bool
        Average the denoiser over 8 flips and rotations (8 times slower, a little better).
    clip : bool
        Clip the result to [0, 1].
    workers : int, optional
        scipy.fft threads; None uses every core.
    callback : callable, optional
        ``callback(info)`` after every iteration with ``iteration``, ``max_iter``,
        ``sigma`` (the denoiser strength) and ``estimate`` (read-only, cropped).
    device, precision
        Where and how the denoiser runs (CUDA when available; bf16 where native).

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.

    Raises
    ------
    ImportError
        Without the torch extra (the message gives the install command).

    References
    ----------
    K. Zhang, W. Zuo, S. Gu and L. Zhang, "Learning deep CNN denoiser prior for image
    restoration", CVPR 2017; K. Zhang et al., "Plug-and-play image restoration with deep
    denoiser prior", TPAMI 2021.
    """
    return warm_started(image, psf, init=None, start_sigma=START_SIGMA, noise_sigma=noise_sigma,
                        max_iter=max_iter, denoiser=denoiser, boundary=boundary, ensemble=ensemble, clip=clip,
                        workers=workers, callback=callback, device=device, precision=precision)


def warm_started(image, psf, *, init, start_sigma: float, noise_sigma="auto", max_iter: int = MAX_ITER,
                 denoiser: str = "denoiser", boundary: str = "smooth", ensemble: bool = False,
                 clip: bool = False, workers=None, callback=None, device=None,
                 precision: str = "auto") -> np.ndarray:
    """:func:`plug_and_play` whose first data step pulls towards ``init`` (a first estimate of the
    sharp image, the shape of ``image``; None: the blurry image) and whose schedule starts at
    ``start_sigma`` (in (0, 50/255]): a warm start from another solver's restoration lets a
    shorter schedule from a lower strength do.
    """
    image = check_image(image)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"plug_and_play takes grey or RGB images; got {image.shape[2]} channels. "
                         "Drop alpha first (image[..., :3]).")
    psf = check_psf(psf, image_shape=image.shape, per_channel=True)
    check_choice(boundary, SOLVER_BOUNDARIES, name="boundary")
    max_iter = check_number(max_iter, name="max_iter", low=1, integer=True)
    workers = check_workers(workers)
    check_callback(callback)
    if not isinstance(ensemble, bool):
        raise TypeError(f"ensemble must be True or False, got {ensemble!r}.")
    if isinstance(noise_sigma, str):
        check_choice(noise_sigma, ("auto",), name="noise_sigma")
        sigma = auto_noise_sigma(image)
    else:
        sigma = check_number(noise_sigma, name="noise_sigma", low=0)
    if init is not None:
        init = check_image(init, name="init")
        if init.shape != image.shape:
            raise ValueError(f"init has shape {init.shape}, but the image has {image.shape}: pass a first "
                             "estimate of the same shape as the image, or None.")

    from ..nets.denoiser import MAX_SIGMA, DenoiserRunner

    start_sigma = check_number(start_sigma, name="start_sigma", low=0, low_inclusive=False,
                               high=MAX_SIGMA * (1 + 1e-6))

    runner = DenoiserRunner(denoiser, device=device, precision=precision, tile=DENOISER_TILE)
    plan = padding_plan(image.shape, psf.shape, boundary, narrow=True)  # the data steps fit seen pixels only
    h, w = image.shape[:2]
    crop = (slice(plan[2], plan[2] + h), slice(plan[3], plan[3] + w))
    channels = 1 if image.ndim == 2 else 3
    observed = [pad_channel(image if channels == 1 else image[:, :, c], plan, boundary)
                for c in range(channels)]
    if psf.ndim == 2:  # one operator (its spectra are the size of a channel) serves every channel
        blurs = [BlurOperator(psf, plan[:2], dtype=image.dtype, workers=workers)] * channels
    else:
        blurs = [BlurOperator(psf[:, :, c], plan[:2], dtype=image.dtype, workers=workers)
                 for c in range(channels)]
    z = np.stack(observed, axis=2) if channels == 3 else observed[0].copy()
    if init is not None:
        z[crop] = init
    clipped = clipped_highlights(image)
    masked = bool(plan[:2] != (h, w)) or bool(clipped.any())  # some grid pixels are not data
    seen = seen_mask(plan, crop, clipped) if masked else None
    sigmas = _schedule(sigma, max_iter, start_sigma)
    x = np.empty(z.shape, dtype=image.dtype)
    for iteration, strength in enumerate(sigmas, start=1):
        mu = LAMBDA * max(sigma, 1e-4) ** 2 / strength**2
        for c, blur in enumerate(blurs):
            zc = z if channels == 1 else z[:, :, c]
            xc = x if channels == 1 else x[:, :, c]
            if iteration == 1 or not masked:  # closed form (with a mask, on all the grid: a first guess)
                rhs = blur.data_term(observed[c]) + image.dtype.type(mu) * blur.rfft2(zc)
                xc[...] = blur.solve(rhs, weight=1.0, identity_weight=mu)
                if masked:
                    observed[c] = blur.seen_data_term(observed[c], seen)  # A^T M y from now on
            if masked:
                rhs = zc * image.dtype.type(mu)
                rhs += observed[c]
                xc[...] = blur.solve_seen(rhs, seen, xc, DATA_STEP_ITERATIONS, identity_weight=mu)
        del z  # the data step has used it: two of them never coexist with the denoiser's buffers
        level = float(min(strength, MAX_SIGMA))
        z = _ensemble_denoise(runner, x, level) if ensemble else runner(x, level)
        if callback is not None:
            view = z[crop]
            view.flags.writeable = False
            callback({"iteration": iteration, "max_iter": max_iter, "sigma": float(strength),
                      "estimate": view})
    out = np.ascontiguousarray(z[crop])
    if clip:
        np.clip(out, 0, 1, out=out)
    return out


class PlugAndPlayDeblurrer(NonBlindDeblurrer):
    """Plug-and-play deconvolution as a Deblurrer; ``fit(blurry, sharp)`` tunes ``noise_sigma``.

    ``fit(blurry)`` alone keeps the 'auto' noise estimate; with pairs, the noise level
    (which sets the strength of the whole schedule) is searched in ``tune_range``.
    """

    _solver = staticmethod(plug_and_play)
    _tuned = "noise_sigma"

    @staticmethod
    def _auto_values(image, psf, params):
        return [auto_noise_sigma(check_image(image))]

    def __init__(self, *, psf=None, noise_sigma="auto", max_iter=MAX_ITER, denoiser="denoiser",
                 boundary="smooth", ensemble=False, clip=False, workers=None, callback=None, device=None,
                 precision="auto", tune_range=(1e-3, 0.1)):
        store_params(self, locals())

    def _restore_one(self, image):
        self._check_psf_given()
        params = self._solver_params()
        value = params["noise_sigma"]
        if isinstance(value, np.ndarray):  # the unsupervised fit keeps one value per image kind
            params["noise_sigma"] = float(value[0])
        return plug_and_play(image, self.psf, **params)
