"""Blind deblurring: estimate the kernel on the luminance, then restore every channel."""

from __future__ import annotations

import numpy as np

from .._deprecation import renamed_parameters
from .._tuning import tune_on_pairs
from .._validation import check_image
from ..base import BaseDeblurrer, as_pairs, store_params
from ..restoration import hyper_laplacian
from ..restoration._problem import auto_lams
from ..restoration.hyper_laplacian import AUTO_LAM_SCALE
from ._estimate import RENAMED, estimate_psf

#: Search interval of ``BlindDeblurrer.fit`` on pairs for ``final_lam``.
FINAL_LAM_TUNE_RANGE = (10.0, 1e5)
#: The error of an estimated kernel as extra noise sigma in the final step's 'auto' weight
#: (benchmarks/calibrate_blind_final.py: Levin 2009 development half and BSDS train synthetics).
KERNEL_ERROR_SIGMA = 0.0125


def final_weights(image: np.ndarray, kernel: np.ndarray, kernel_error_sigma: float = KERNEL_ERROR_SIGMA):
    """Per-channel hyper-Laplacian weights ``s / (sigma^2 + sigma_k^2)`` for a blind estimate.

    ``sigma`` is each channel's noise estimate (in the solver's colour space, as
    ``hyper_laplacian(lam="auto")`` computes it) and ``sigma_k`` the margin for the error
    of an estimated kernel: a kernel that is slightly off leaves a residual that the
    final step must treat like noise, or it rings. With a true kernel ``sigma_k = 0`` is
    hyper-Laplacian's own 'auto' rule.
    """
    params = {"boundary": "smooth", "workers": None, "colour_space": "auto"}  # hyper_laplacian's defaults
    kernel = kernel.astype(image.dtype)
    return auto_lams(image, kernel, params, AUTO_LAM_SCALE, extra_sigma=kernel_error_sigma)


@renamed_parameters(**RENAMED)
def blind_deconvolve(image, psf_size="auto", *, prior: str = "l0", grad_weight: float = 4e-3,
                     prior_weight: float = 4e-3, iter_per_level: int = 5, kernel_reg: float = 30.0,
                     final_lam="auto", clip: bool = False, callback=None):
    """Deblur a photo whose blur kernel is unknown.

    The kernel is estimated by :func:`estimate_psf` (coarse to fine, on the luminance);
    every channel is then restored with :func:`pydeblur.hyper_laplacian` and that
    kernel, whose sparse gradient prior keeps ringing low.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C), values in [0, 1].
    psf_size : 'auto' or int
        Odd side of the kernel to estimate (a little larger than the blur), or 'auto'
        (the default): a generous size from the image, the result trimmed to its support
        (see :func:`estimate_psf`).
    prior, grad_weight, prior_weight, iter_per_level, kernel_reg, callback
        Passed to :func:`estimate_psf` (``lam``, ``lam_prior``, ``n_iter`` and ``gamma``
        are the deprecated names of the four weights and counts).
    final_lam : 'auto' or float
        Data weight of the final hyper-Laplacian restoration (its ``lam``). 'auto'
        (:func:`final_weights`) is hyper-Laplacian's noise rule with a margin for the
        error of the estimated kernel: without it, real captures (low noise, imperfect
        kernel) ring badly (Levin 2009 development half: 23.0 dB without the margin,
        29.0 with it).
    clip : bool
        Clip the result to [0, 1].

    Returns
    -------
    restored : numpy.ndarray
        Same shape and dtype as ``image``.
    psf : numpy.ndarray
        The estimated kernel, ``(psf_size, psf_size)``, summing to 1.

    Examples
    --------
    >>> from pydeblur import psf, degrade, sample_image
    >>> sharp = sample_image("camera")[96:288, 96:288]
    >>> blurry, _, _ = degrade(sharp, psf=psf.motion(9, 30), noise_sigma=0.005, rng=0)
    >>> restored, kernel = blind_deconvolve(blurry, psf_size=13)
    >>> restored.shape == blurry.shape, kernel.shape
    (True, (13, 13))
    """
    image = check_image(image)
    kernel = estimate_psf(image, psf_size, prior=prior, grad_weight=grad_weight, prior_weight=prior_weight,
                          iter_per_level=iter_per_level, kernel_reg=kernel_reg, callback=callback)
    return _final_step(image, kernel, final_lam, clip), kernel


def _final_step(image, kernel, final_lam, clip):
    kernel = kernel.astype(image.dtype)
    lam = final_weights(image, kernel) if isinstance(final_lam, str) and final_lam == "auto" else final_lam
    return hyper_laplacian(image, kernel, lam=lam, clip=clip)


class BlindDeblurrer(BaseDeblurrer):
    """Blind deblurring as a Deblurrer; see :func:`blind_deconvolve` for the parameters.

    * ``fit(blurry)`` estimates the kernel and keeps it in ``psf_`` (one kernel for one
      image; for a list of frames that share a shake, one kernel estimated from all of
      them). Later ``restore`` calls deconvolve with ``psf_`` instead of estimating.
    * ``fit(blurry, sharp)`` tunes ``final_lam`` (the data weight of the final non-blind
      step) in ``tune_range`` for the best mean PSNR on the pairs, with every pair's
      kernel estimated once (kept in ``psfs_``), and stores it in ``final_lam_``; ``psf_``
      stays unset, so ``restore`` estimates a kernel for every new image.
    * Unfitted, or fitted on pairs, ``restore`` estimates a kernel per image and keeps
      no state; ``fit_restore(blurry)`` estimates, keeps ``psf_`` and restores.
    * ``score`` compares after the best shift (the kernel, hence the image, is only
      known up to a translation).

    Examples
    --------
    >>> from pydeblur import psf, degrade, sample_image
    >>> sharp = sample_image("camera")[96:288, 96:288]
    >>> blurry, _, _ = degrade(sharp, psf=psf.motion(9, 30), noise_sigma=0.005, rng=0)
    >>> deblurrer = BlindDeblurrer(prior="l0", psf_size=13)
    >>> deblurrer.fit_restore(blurry).shape, deblurrer.psf_.shape
    ((184, 184), (13, 13))
    """

    _score_upto_shift = True

    @renamed_parameters(positional=("prior", "psf_size"), **RENAMED)
    def __init__(self, *, prior: str = "l0", psf_size="auto", grad_weight: float = 4e-3,
                 prior_weight: float = 4e-3, iter_per_level: int = 5, kernel_reg: float = 30.0,
                 final_lam="auto", clip: bool = False, tune_range=FINAL_LAM_TUNE_RANGE):
        store_params(self, locals())

    def _estimation_params(self) -> dict:
        return {"prior": self.prior, "grad_weight": self.grad_weight, "prior_weight": self.prior_weight,
                "iter_per_level": self.iter_per_level, "kernel_reg": self.kernel_reg}

    def _final_lam(self):
        fitted = getattr(self, "final_lam_", None)
        return self.final_lam if fitted is None else fitted

    def _restore_one(self, image):
        image = check_image(image)
        kernel = getattr(self, "psf_", None)
        if kernel is None:
            kernel = estimate_psf(image, self.psf_size, **self._estimation_params())
        return _final_step(image, kernel, self._final_lam(), self.clip)

    def fit(self, blurry, sharp=None):
        """Estimate the kernel (``psf_``), or with ``sharp`` tune ``final_lam_``; returns self."""
        if sharp is None:
            self.psf_ = estimate_psf(blurry, self.psf_size, **self._estimation_params())
            return self
        pairs = as_pairs(blurry, sharp)
        kernels = [estimate_psf(b, self.psf_size, **self._estimation_params()).astype(b.dtype)
                   for b, _ in pairs]

        def restore_with(b, value, index):
            return hyper_laplacian(b, kernels[index], lam=value, clip=self.clip)

        self.final_lam_ = tune_on_pairs(restore_with, pairs, self.tune_range, upto_shift=True)
        self.psfs_ = kernels
        return self
