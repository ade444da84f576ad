"""Wiener deconvolution and the truncated inverse filter."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_number
from ..base import store_params
from ..operators import difference_spectrum, frequency_grid
from ._base import NonBlindDeblurrer
from ._problem import (
    REGULARIZER_FILTERS,
    REGULARIZER_POWER,
    estimate_noise_sigma,
    is_per_channel,
    per_channel_values,
    prepare,
    regularizer_energy,
)

#: Factor on the model's balance, calibrated once on BSDS500 *train* photos (8 photos x 4 PSF
#: families x noise sigma 0.01 and 0.02, 64 pairs): the white-filter model underestimates the
#: balance for heavy-tailed natural-image gradients. Reproduce with benchmarks/calibrate_auto.py.
AUTO_BALANCE_SCALE = {"gradient": 1.7, "laplacian": 0.5, "identity": 1.0}


def auto_balance(image2d: np.ndarray, psf2d: np.ndarray, regularizer: str) -> float:
    """Noise-to-signal balance of one channel under a power-law image model.

    Each of the regulariser's ``n`` filters ``r`` applied to the sharp image is
    modelled as white noise of power ``c`` (so ``S_x = n c / |R|^2``, e.g. a 1/f^2
    spectrum for the gradient regulariser), which makes the Wiener balance
    ``sigma^2 / (n c)``. ``sigma`` comes from the wavelet MAD and ``c`` from the blurry
    image: ``E[(r * y)^2] = c sum(k^2) + sigma^2 sum(r^2)``.
    """
    sigma = float(estimate_noise_sigma(image2d))
    tap_energy, n_filters = REGULARIZER_FILTERS[regularizer]
    signal = regularizer_energy(image2d, regularizer) - sigma**2 * tap_energy
    power = max(signal, 1e-3 * sigma**2, 1e-12) / float(np.sum(psf2d**2))
    return max(AUTO_BALANCE_SCALE[regularizer] * sigma**2 / (n_filters * power), 1e-12)


def wiener(image, psf, *, balance="auto", regularizer: str = "gradient", boundary: str = "smooth",
           colour_space: str = "auto", clip: bool = False, workers=None) -> np.ndarray:
    """Wiener (regularised least-squares) deconvolution with a known PSF.

    Solves ``X = conj(H) Y / (|H|^2 + balance |R|^2)`` in the Fourier domain on the
    boundary-extended image, where ``H`` is the PSF's transfer function and ``R`` the
    regulariser's.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C).
    psf : numpy.ndarray
        The PSF, 2-D (all channels) or (h, w, C) (one per channel).
    balance : 'auto', float, sequence of float or callable
        Noise-to-signal ratio. 'auto' estimates the noise level from the image and
        the signal power under a power-law model, per channel (see
        :func:`auto_balance`); a float >= 0 is used as given; a sequence gives one value
        per channel the solver sees (in the opponent space under ``colour_space``
        'auto' / 'opponent', as ``WienerDeblurrer.fit`` stores them); a callable
        ``balance(fy, fx)`` of frequencies in cycles per pixel (arrays of shapes
        (H', 1) and (1, W'//2+1) on the padded grid) returns a spectrum.
    regularizer : {'gradient', 'laplacian', 'identity'}
        ``|R|^2``: squared gradient (a 1/f^2 image spectrum, the default), squared
        Laplacian (1/f^4), or 1 (classical white-spectrum Wiener).
    boundary : {'smooth', 'reflect', 'periodic'}
        How the image is extended before the FFT (see :func:`pydeblur.operators.pad_boundary`).
    colour_space : {'auto', 'opponent', 'rgb'}
        The channels a colour image is solved in. 'opponent' solves luminance,
        red-green and blue-yellow (an orthonormal transform of R, G, B, so the noise
        stays white), whose chroma channels then get their own, stronger
        regularisation; it needs an RGB image and one 2-D PSF. 'rgb' solves the
        channels as given. 'auto' is 'opponent' where it applies, else 'rgb'.
        The filter is linear, so the choice only changes the result through the
        per-channel 'auto' balance.
    clip : bool
        Clip the result to [0, 1].
    workers : int, optional
        scipy.fft threads; None uses every core.

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.

    Examples
    --------
    >>> from pydeblur import psf, degrade, psnr, sample_image
    >>> k = psf.gaussian(2.0)
    >>> blurry, sharp, _ = degrade(sample_image("camera"), psf=k, noise_sigma=0.01, rng=0)
    >>> bool(psnr(wiener(blurry, k), sharp) > psnr(blurry, sharp) + 1)
    True
    """
    from ._kernels import apply_wiener

    check_choice(regularizer, tuple(REGULARIZER_POWER), name="regularizer")
    if isinstance(balance, str):
        check_choice(balance, ("auto",), name="balance")
    elif not callable(balance) and not is_per_channel(balance):
        balance = check_number(balance, name="balance", low=0)
    problem = prepare(image, psf, boundary=boundary, workers=workers, colour_space=colour_space)
    if is_per_channel(balance):
        balance = per_channel_values(balance, problem, name="balance", low=0, low_inclusive=True)
    elif not isinstance(balance, str):  # one filter for every channel commutes with the orthonormal transform
        problem.opponent = False
    power = REGULARIZER_POWER[regularizer]
    reg_rows = difference_spectrum(problem.shape[0], problem.dtype)
    reg_cols = difference_spectrum(problem.shape[1], problem.dtype, half=True)
    if callable(balance):  # one weighted regulariser spectrum for every channel
        weights = np.asarray(balance(*frequency_grid(problem.shape, problem.dtype)))
        reg = (reg_rows[:, None] + reg_cols[None, :]) ** power * weights
    for c in range(problem.n_channels):
        spectrum = problem.rfft2(problem.channel(c))
        otf = problem.otf(c)
        if callable(balance):
            denominator = otf.real**2 + otf.imag**2 + reg
            spectrum *= np.divide(np.conj(otf), denominator, out=np.zeros_like(otf),
                                  where=denominator > 0)
        else:
            if isinstance(balance, str):
                value = auto_balance(problem.image_channel(c), problem.psf_of(c), regularizer)
            elif isinstance(balance, np.ndarray):
                value = float(balance[c])
            else:
                value = balance
            apply_wiener(spectrum, otf, reg_rows, reg_cols, power, value)
        problem.store(c, problem.irfft2(spectrum))
    return problem.result(clip)


def inverse(image, psf, *, threshold: float = 0.1, boundary: str = "smooth", clip: bool = False,
            workers=None) -> np.ndarray:
    """Truncated inverse filter: ``X = Y / H`` where ``|H| >= threshold``, 0 elsewhere.

    The plain inverse amplifies noise without bound where the PSF's transfer function
    is small; truncating those frequencies is the simplest regularisation. Prefer
    :func:`wiener` on noisy images.

    Parameters
    ----------
    image, psf, boundary, clip, workers
        As in :func:`wiener`.
    threshold : float
        Smallest ``|H|`` that is inverted, in (0, 1]. The default 0.1 suits noise of
        about 1 %; lower it for cleaner images.

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.
    """
    threshold = check_number(threshold, name="threshold", low=0, high=1, low_inclusive=False)
    from ._kernels import apply_truncated_inverse

    problem = prepare(image, psf, boundary=boundary, workers=workers)
    for c in range(problem.n_channels):
        spectrum = problem.rfft2(problem.channel(c))
        apply_truncated_inverse(spectrum, problem.otf(c), threshold)
        problem.store(c, problem.irfft2(spectrum))
    return problem.result(clip)


class WienerDeblurrer(NonBlindDeblurrer):
    """Wiener deconvolution as a Deblurrer; ``fit`` fixes ``balance`` (-> ``balance_``).

    Parameters are those of :func:`wiener`, plus ``psf`` and ``tune_range`` (the
    interval ``fit`` searches on pairs). ``fit(blurry)`` alone keeps the 'auto' balance
    of every channel (so ``fit(y).restore(y)`` equals ``wiener(y, psf)``);
    ``fit(blurry, sharp)`` tunes one balance for the best mean PSNR.

    Examples
    --------
    >>> from pydeblur import psf
    >>> WienerDeblurrer(psf=psf.gaussian(2.0), balance=0.01)
    WienerDeblurrer(balance=0.01, psf=array(shape=(13, 13), dtype=float64))
    """

    _solver = staticmethod(wiener)
    _tuned = "balance"

    @staticmethod
    def _auto_values(image, psf, params):
        problem = prepare(image, psf, boundary=params["boundary"], workers=params["workers"],
                          colour_space=params["colour_space"])
        return [auto_balance(problem.image_channel(c), problem.psf_of(c), params["regularizer"])
                for c in range(problem.n_channels)]

    def __init__(self, *, psf=None, balance="auto", regularizer="gradient", boundary="smooth",
                 colour_space="auto", clip=False, workers=None, tune_range=(1e-6, 1.0)):
        store_params(self, locals())


class InverseDeblurrer(NonBlindDeblurrer):
    """Truncated inverse filter as a Deblurrer; ``fit(blurry, sharp)`` tunes ``threshold_``.

    There is no rule for the threshold from a blurry image alone, so ``fit`` needs pairs.
    """

    _solver = staticmethod(inverse)
    _tuned = "threshold"

    def __init__(self, *, psf=None, threshold=0.1, boundary="smooth", clip=False, workers=None,
                 tune_range=(1e-4, 0.5)):
        store_params(self, locals())
