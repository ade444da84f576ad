"""Latent-image step of blind deconvolution: L0-type priors by half-quadratic splitting.

Minimises ``||k * x - y||^2 + lam_grad ||grad x||_0 + lam_intensity ||x||_0
+ lam_dark ||dark(x)||_0 + lam_learned f(x)`` over ``x`` (``f`` a learned blur
score) for a fixed kernel (periodic boundary on an already extended image).
Auxiliary variables for the gradient, the intensity and the dark channel are each
the hard-thresholded current value, the one for ``f`` a gradient step from it; their
penalty weights double from ``2 lam`` up to ``beta_max``, and every round ends with
one Fourier-domain solve for ``x``.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from ..psf._utils import psf_to_otf
from ..restoration._problem import gradient_energy

#: The learned prior's gradient is recomputed every this many splitting rounds.
LEARNED_REFRESH = 3


def restore_latent(blurry: np.ndarray, kernel: np.ndarray, *, lam_grad: float, lam_intensity: float = 0.0,
                   lam_dark: float = 0.0, patch: int = 35, lam_learned: float = 0.0, learned_gradient=None,
                   beta_max: float = 1e5) -> np.ndarray:
    """The sharp image under L0 gradient (+ intensity, + dark-channel, + learned) priors.

    ``learned_gradient(x)`` returns the gradient of a learned blur score at ``x``; its
    auxiliary variable is one gradient step from ``x`` of size ``lam_learned / beta``.
    See the module notes.
    """
    if lam_dark > 0:
        from ._kernels import dark_channel
    otf = psf_to_otf(kernel, blurry.shape)
    data = np.conj(otf) * scipy.fft.rfft2(blurry)
    otf_energy = np.abs(otf) ** 2
    grad_energy = gradient_energy(blurry.shape, np.float64)
    x = blurry.copy()
    weights = [w for w in (lam_grad, lam_intensity, lam_dark, lam_learned) if w > 0]
    beta = 2 * min(weights)
    step = 0
    while beta < beta_max:
        numerator = data.copy()
        denominator = otf_energy.copy()
        if lam_grad > 0:
            gx, gy = np.roll(x, -1, axis=1) - x, np.roll(x, -1, axis=0) - x
            keep = gx**2 + gy**2 >= lam_grad / beta
            gx, gy = gx * keep, gy * keep
            adjoint = (np.roll(gx, 1, axis=1) - gx) + (np.roll(gy, 1, axis=0) - gy)
            numerator += beta * scipy.fft.rfft2(adjoint)
            denominator += beta * grad_energy
        target, weight = np.zeros_like(x), 0.0
        if lam_intensity > 0:
            target += np.where(x**2 >= lam_intensity / beta, x, 0.0)
            weight += beta
        if lam_dark > 0:
            dark, index = dark_channel(x, patch)
            suppressed = index[dark**2 < lam_dark / beta]
            mapped = x.copy()
            mapped.flat[suppressed] = 0.0  # the dark channel's pixels pulled to zero
            target += mapped
            weight += beta
        if lam_learned > 0:
            if step % LEARNED_REFRESH == 0:  # the network is the costly part: refresh its gradient
                score_gradient = learned_gradient(x)
            target += x - (lam_learned / beta) * score_gradient
            weight += beta
        if weight > 0:
            numerator += beta * scipy.fft.rfft2(target)
            denominator += weight
        x = scipy.fft.irfft2(numerator / denominator, s=blurry.shape)
        beta *= 2
        step += 1
    return x
