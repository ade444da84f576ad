"""Blind deblurring: estimate the kernel on the luminance, then restore every channel."""

from __future__ import annotations

import numpy as np

from .._tuning import maximize_log_scalar
from .._validation import check_image
from ..base import BaseDeblurrer, as_pairs, store_params
from ..metrics import psnr
from ..restoration import hyper_laplacian
from ._estimate import estimate_psf


def blind_deconvolve(image, psf_size: int = 31, *, prior: str = "l0", lam: float = 4e-3,
                     lam_prior: float = 4e-3, n_iter: int = 5, gamma: float = 30.0,
                     final_lam="auto", clip: bool = False, callback=None):
    """Deblur a photo whose blur kernel is unknown.

    The kernel is estimated by :func:`estimate_psf` (coarse to fine, on the luminance);
    every channel is then restored with :func:`pydeblur.hyper_laplacian` and that
    kernel, whose sparse gradient prior keeps ringing low.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C), values in [0, 1].
    psf_size : int
        Odd side of the kernel to estimate; choose it a little larger than the blur.
    prior, lam, lam_prior, n_iter, gamma, callback
        Passed to :func:`estimate_psf`.
    final_lam : 'auto' or float
        Data weight of the final hyper-Laplacian restoration (its ``lam``).
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
    kernel = estimate_psf(image, psf_size, prior=prior, lam=lam, lam_prior=lam_prior, n_iter=n_iter,
                          gamma=gamma, callback=callback)
    restored = hyper_laplacian(image, kernel.astype(image.dtype), lam=final_lam, clip=clip)
    return restored, kernel


class BlindDeblurrer(BaseDeblurrer):
    """Blind deblurring as a Deblurrer; see :func:`blind_deconvolve` for the parameters.

    ``restore`` estimates a kernel for every image and keeps the last one in ``psf_``
    (a list of kernels when given a list). ``fit(blurry, sharp)`` tunes ``final_lam``,
    the data weight of the final non-blind step, for the best mean PSNR on the pairs,
    and stores it in ``final_lam_``.

    Examples
    --------
    >>> from pydeblur import psf, degrade, sample_image
    >>> sharp = sample_image("camera")[96:288, 96:288]
    >>> blurry, _, _ = degrade(sharp, psf=psf.motion(9, 30), noise_sigma=0.005, rng=0)
    >>> deblurrer = BlindDeblurrer(prior="l0", psf_size=13)
    >>> deblurrer.restore(blurry).shape, deblurrer.psf_.shape
    ((184, 184), (13, 13))
    """

    def __init__(self, prior: str = "l0", psf_size: int = 31, *, lam: float = 4e-3, lam_prior: float = 4e-3,
                 n_iter: int = 5, gamma: float = 30.0, final_lam="auto", clip: bool = False):
        store_params(self, locals())

    def _estimation_params(self) -> dict:
        return {"prior": self.prior, "lam": self.lam, "lam_prior": self.lam_prior, "n_iter": self.n_iter,
                "gamma": self.gamma}

    def _final_lam(self):
        fitted = getattr(self, "final_lam_", None)
        return self.final_lam if fitted is None else fitted

    def _restore_one(self, image):
        restored, kernel = blind_deconvolve(image, self.psf_size, **self._estimation_params(),
                                            final_lam=self._final_lam(), clip=self.clip)
        self._kernels.append(kernel)
        return restored

    def restore(self, blurry):
        """Restore one image or a list; the estimated kernel(s) are left in ``psf_``."""
        self._kernels = []
        restored = super().restore(blurry)
        self.psf_ = self._kernels if isinstance(blurry, (list, tuple)) else self._kernels[0]
        del self._kernels
        return restored

    def fit(self, blurry, sharp):
        """Tune ``final_lam`` for the best mean PSNR on the pairs (kernels estimated once); returns self."""
        pairs = [(check_image(b), s) for b, s in as_pairs(blurry, sharp)]
        kernels = [estimate_psf(b, self.psf_size, **self._estimation_params()).astype(b.dtype)
                   for b, _ in pairs]

        def score(value):
            return float(np.mean([psnr(hyper_laplacian(b, k, lam=value, clip=self.clip), s)
                                  for (b, s), k in zip(pairs, kernels, strict=True)]))

        self.final_lam_ = maximize_log_scalar(score, 10.0, 1e5)
        return self


