"""Latent-image step of blind deconvolution: L0-type priors by half-quadratic splitting.

Minimises ``||k * x - y||^2 + lam_grad ||grad x||_0 + lam_intensity ||x||_0
+ lam_dark ||dark(x)||_0 + lam_learned f(x)`` over ``x`` (``f`` a learned blur
score) for a fixed kernel (periodic boundary on an already extended image).
Auxiliary variables for the gradient, the intensity and the dark channel are each
the hard-thresholded current value, the one for ``f`` a gradient step from it; their
penalty weights grow by ``BETA_GROWTH`` from ``2 lam`` up to ``beta_max``, and every round ends with
one Fourier-domain solve for ``x``.
"""

from __future__ import annotations

import numpy as np

from ..operators import BlurOperator, gradient_energy

#: Factor by which the splitting weight beta grows per round (Xu et al. double it). Global,
#: hyper-Laplacian final step, 2 / 3 / 4 / 8: Levin 2009 development half 32.56 / 32.55 /
#: 32.53 / 31.95 dB; the synthetic crops of benchmarks/blind.py 26.91 / 27.11 / 27.06 /
#: 26.92; benchmarks/blind_large.py --per-case on half the cases +3.46 / +4.05 / +4.40 /
#: +5.19 dB at 16.6 / 15.5 / 11.9 / 9.0 s per estimate (why faster growth helps large
#: kernels was not traced; perhaps a latent image further from the L0 optimum keeps more weak edges).
BETA_GROWTH = 4.0
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
    from ..restoration._kernels import adjoint_differences, forward_differences

    if lam_dark > 0:
        from ._kernels import dark_channel
    blur = BlurOperator(kernel, blurry.shape, dtype=blurry.dtype, workers=1)
    data = blur.data_term(blurry)
    grad_energy = gradient_energy(blurry.shape, blurry.dtype)
    x = blurry.copy()
    gx, gy, pull = (np.empty_like(x) for _ in range(3))
    none = np.broadcast_to(np.zeros((1, 1), dtype=x.dtype), x.shape)  # nothing to subtract
    weights = [w for w in (lam_grad, lam_intensity, lam_dark, lam_learned) if w > 0]
    beta = 2 * min(weights)
    step = 0
    while beta < beta_max:
        numerator = data.copy()
        if lam_grad > 0:
            forward_differences(x, gx, gy)
            drop = gx**2 + gy**2 < lam_grad / beta
            gx[drop] = 0.0
            gy[drop] = 0.0
            adjoint_differences(gx, gy, none, none, pull)
            numerator += beta * blur.rfft2(pull)
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
            numerator += beta * blur.rfft2(target)
        x = blur.solve(numerator, weight=1.0, prior_spectrum=grad_energy,
                       prior_weight=beta if lam_grad > 0 else 0.0, identity_weight=weight)
        beta *= BETA_GROWTH
        step += 1
    return x
