"""Coarse-to-fine blind kernel estimation and the blind deblurring function."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_choice, check_image, check_number
from ..operators import pad_boundary
from ..psf._utils import center, crop, pad_to, rescale
from ._kernel_update import estimate_kernel, salient_gradients
from ._latent import restore_latent

PRIORS = ("l0", "l0_text", "dark_channel", "learned")
LUMA = (0.299, 0.587, 0.114)  # Rec. 601 weights of the luminance the kernel is estimated on


def _luminance(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float64)
    if image.shape[2] == 3:
        return image.astype(np.float64) @ np.array(LUMA)
    return image.astype(np.float64).mean(axis=2)


def _resize(image: np.ndarray, shape) -> np.ndarray:
    import cv2

    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA
                      if shape[0] < image.shape[0] else cv2.INTER_LINEAR)


def _odd(value: float) -> int:
    return max(3, 2 * round((value - 1) / 2) + 1)


def estimate_psf(image, psf_size: int = 31, *, prior: str = "l0", lam: float = 4e-3,
                 lam_prior: float = 4e-3, n_iter: int = 5, gamma: float = 30.0, classifier=None,
                 callback=None) -> np.ndarray:
    """Estimate the blur kernel of a photo from the photo alone, coarse to fine.

    The kernel is estimated on the luminance over a pyramid whose levels differ by a
    factor sqrt(2), from a 3x3 kernel at the coarsest level up to ``psf_size``. At every
    level, ``n_iter`` rounds alternate a latent-image step (an L0-type prior, see
    ``prior``) with a kernel step: least squares on the latent image's salient
    gradients (a threshold that keeps every orientation represented and relaxes by
    1.1 per round) with Tikhonov weight ``gamma``, solved by conjugate gradients on the
    kernel's support, then non-negativity, pruning, removal of stray components, unit
    sum and re-centring. The prior weights restart at every level and decay by 1.1 per
    round. The image is extended smoothly (Liu-Jia) so that the FFT steps see no
    wrap-around edges.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C).
    psf_size : int
        Odd side of the estimated kernel; at most a quarter of the image's shorter side.
    prior : {'l0', 'l0_text', 'dark_channel', 'learned'}
        'l0': sparse gradients (Xu et al. 2013); 'l0_text': sparse gradients and
        intensities (Pan et al. 2014, for text and dark backgrounds); 'dark_channel':
        sparse gradients and a sparse dark channel (Pan et al. 2016); 'learned': sparse
        gradients and a CNN's blur score (Li et al. 2018; needs the torch extra).
    lam : float
        Weight of the L0 gradient prior.
    lam_prior : float
        Weight of the second term of 'l0_text' / 'dark_channel' / 'learned'.
    n_iter : int
        Alternations per pyramid level.
    gamma : float
        Tikhonov weight of the kernel step.
    classifier : str or os.PathLike, optional
        'learned' only: the blur classifier's weights (default: the shipped
        ``blur-classifier``).
    callback : callable, optional
        ``callback({"level", "levels", "iteration", "psf"})`` after every kernel step.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(psf_size, psf_size)``, summing to 1, centred.

    References
    ----------
    L. Xu, S. Zheng and J. Jia, "Unnatural L0 sparse representation for natural image
    deblurring", CVPR 2013. J. Pan et al., "Deblurring text images via L0-regularized
    intensity and gradient prior", CVPR 2014; "Blind image deblurring using dark
    channel prior", CVPR 2016.
    """
    image = check_image(image)
    check_choice(prior, PRIORS, name="prior")
    psf_size = check_number(psf_size, name="psf_size", low=3, integer=True)
    if psf_size % 2 == 0:
        raise ValueError(f"psf_size must be odd (a centred kernel), got {psf_size}.")
    if 4 * psf_size > min(image.shape[:2]):
        raise ValueError(f"psf_size {psf_size} is too large for a {image.shape[0]}x{image.shape[1]} image; "
                         "the kernel can be at most a quarter of the shorter side.")
    lam = check_number(lam, name="lam", low=0, low_inclusive=False)
    lam_prior = check_number(lam_prior, name="lam_prior", low=0)
    n_iter = check_number(n_iter, name="n_iter", low=1, integer=True)
    gamma = check_number(gamma, name="gamma", low=0)
    learned_gradient = _learned_gradient(prior, classifier)
    grey = _luminance(image)
    n_levels = max(1, math.ceil(math.log(psf_size / 3) / math.log(math.sqrt(2))) + 1)
    kernel = np.zeros((3, 3))
    kernel[1, 1:] = 0.5
    kernel = center(kernel)
    previous_shape = None
    for level in range(n_levels):
        scale = math.sqrt(0.5) ** (n_levels - 1 - level)
        size = psf_size if level == n_levels - 1 else min(psf_size, _odd(psf_size * scale))
        shape = (max(size * 4, round(grey.shape[0] * scale)), max(size * 4, round(grey.shape[1] * scale)))
        if previous_shape is not None:  # the kernel grows with the image, whatever the kernel sizes
            kernel = rescale(kernel, shape[0] / previous_shape[0])
            kernel = pad_to(kernel, (size, size)) if kernel.shape[0] < size else crop(kernel, (size, size))
        previous_shape = shape
        blurry = _resize(grey, shape) if shape != grey.shape else grey
        padded, _ = pad_boundary(blurry, (size, size), boundary="smooth")
        lam_grad, lam_second = lam, lam_prior  # every level starts from the full weights
        threshold = None
        for iteration in range(n_iter):
            latent = restore_latent(
                padded, kernel, lam_grad=lam_grad,
                lam_intensity=lam_second if prior == "l0_text" else 0.0,
                lam_dark=lam_second if prior == "dark_channel" else 0.0,
                lam_learned=lam_second if prior == "learned" else 0.0, learned_gradient=learned_gradient,
                patch=max(3, _odd(35 * scale * min(1.0, min(shape) / 255))))
            gx, gy, threshold = salient_gradients(latent, size, threshold)
            kernel = estimate_kernel((gx, gy), padded, size, gamma=gamma)
            threshold /= 1.1
            lam_grad, lam_second = max(lam_grad / 1.1, 1e-4), max(lam_second / 1.1, 1e-4)
            if callback is not None:
                callback({"level": level + 1, "levels": n_levels, "iteration": iteration + 1,
                          "psf": kernel.copy()})
    return kernel


def _learned_gradient(prior, classifier):
    """The gradient function of the learned prior, or None for the other priors."""
    if prior != "learned":
        if classifier is not None:
            raise ValueError(f"classifier= applies to prior='learned' only, not {prior!r}.")
        return None
    from ..nets.blur_classifier import SHIPPED_NAME, load_classifier, prior_gradient

    model = load_classifier(SHIPPED_NAME if classifier is None else classifier)
    return lambda x: prior_gradient(model, x)[1]

