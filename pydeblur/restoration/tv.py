"""Total-variation deconvolution by ADMM."""

from __future__ import annotations

import numpy as np

from .._validation import check_number
from ..base import store_params
from ..operators import clipped_highlights, gradient_energy
from ._base import NonBlindDeblurrer
from ._problem import auto_lams, check_callback, prepare, report_progress, resolve_lam

#: lam = AUTO_LAM_SCALE / sigma^2 under lam="auto"; calibrated on BSDS500 *train* photos
#: (benchmarks/calibrate_auto.py).
#: Search interval of ``fit`` on pairs for ``lam``.
LAM_TUNE_RANGE = (10.0, 1e5)
AUTO_LAM_SCALE = 0.12


def tv(image, psf, *, lam="auto", rho=None, max_iter: int = 100, tol: float = 1e-4,
       isotropic: bool = True, boundary: str = "smooth", colour_space: str = "auto",
       clip: bool = False, workers=None, callback=None) -> np.ndarray:
    """Total-variation deconvolution: ``min lam/2 ||k * x - y||^2 + TV(x)`` by ADMM.

    The gradient is split off (``z = grad x``) and the augmented Lagrangian with
    weight ``rho`` is minimised alternately: ``x`` by one Fourier-domain solve, ``z``
    by (group) soft-thresholding, then the scaled dual ``u`` is updated.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C).
    psf : numpy.ndarray
        The PSF, 2-D (all channels) or (h, w, C).
    lam : 'auto', float or sequence of float
        Weight of the data term (one number, or one per channel the solver sees);
        'auto' uses ``0.12 / sigma^2`` per channel with ``sigma`` the estimated noise level.
    rho : float, optional
        ADMM penalty; default ``lam / 50`` (a good conditioning for images in [0, 1]).
    max_iter : int
        Maximum number of ADMM iterations.
    tol : float
        Stop when the relative change of ``x`` between iterations falls below it.
    isotropic : bool
        Isotropic TV (gradient magnitude) or anisotropic (|dx| + |dy|).
    boundary, colour_space, clip, workers
        As in :func:`pydeblur.restoration.wiener`; every iteration refills the
        boundary extension and the clipped highlights
        (:func:`~pydeblur.operators.clipped_highlights`) with the re-blurred estimate, so
        that the data term ends up fitting the other pixels alone.
    callback : callable, optional
        ``callback(info)`` after every iteration, with ``channel``, ``iteration``,
        ``max_iter``, ``change`` and ``estimate`` (read-only, cropped).

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.

    References
    ----------
    L. Rudin, S. Osher and E. Fatemi, Physica D 60, 1992; S. Boyd et al., "Distributed
    optimization and statistical learning via the alternating direction method of
    multipliers", 2011.
    """
    from ._kernels import adjoint_differences, relative_change, tv_admm_update

    max_iter = check_number(max_iter, name="max_iter", low=1, integer=True)
    tol = check_number(tol, name="tol", low=0)
    check_callback(callback)
    problem = prepare(image, psf, boundary=boundary, workers=workers, colour_space=colour_space)
    lams = resolve_lam(lam, problem, AUTO_LAM_SCALE)
    if rho is not None:
        rho = check_number(rho, name="rho", low=0, low_inclusive=False)
    grad_energy = gradient_energy(problem.shape, problem.dtype)
    dtype = problem.dtype.type
    clipped = clipped_highlights(problem.image)
    clipped = clipped if clipped.any() else None
    for c in range(problem.n_channels):
        lam_c = float(lams[c] if lams.size > 1 else lams[0])
        rho_c = dtype(rho if rho is not None else lam_c / 50)
        observed = problem.channel(c)
        blur = problem.operator(c)
        data_term = blur.data_term(observed, lam_c)
        x = observed
        zx, zy, ux, uy = (np.zeros_like(x) for _ in range(4))
        buffer = np.empty_like(x)
        for iteration in range(1, max_iter + 1):
            adjoint_differences(zx, zy, ux, uy, buffer)
            spectrum = blur.rfft2(buffer)
            spectrum *= rho_c
            spectrum += data_term
            spectrum = blur.solve(spectrum, weight=lam_c, prior_spectrum=grad_energy, prior_weight=rho_c,
                                  out_spectrum=True)
            x_new = blur.irfft2(spectrum)
            if problem.padded or clipped is not None:
                observed = blur.reestimate_border(spectrum, observed, problem.crop, clipped)
                data_term = blur.data_term(observed, lam_c)
            del spectrum
            change = relative_change(x_new, x)
            x = x_new
            tv_admm_update(x, zx, zy, ux, uy, 1.0 / float(rho_c), bool(isotropic))
            report_progress(callback, problem, c, x, iteration=iteration, max_iter=max_iter,
                            change=change)
            if change < tol:
                break
        problem.store(c, x)
    return problem.result(clip)


class TVDeblurrer(NonBlindDeblurrer):
    """Total-variation deconvolution as a Deblurrer; ``fit`` fixes ``lam`` (-> ``lam_``).

    ``fit(blurry)`` alone keeps the 'auto' weight of every channel; ``fit(blurry, sharp)``
    tunes one weight in ``tune_range`` for the best mean PSNR on the pairs.
    """

    _solver = staticmethod(tv)
    _tuned = "lam"

    @staticmethod
    def _auto_values(image, psf, params):
        return auto_lams(image, psf, params, AUTO_LAM_SCALE)

    def __init__(self, *, psf=None, lam="auto", rho=None, max_iter=100, tol=1e-4, isotropic=True,
                 boundary="smooth", colour_space="auto", clip=False, workers=None, callback=None,
                 tune_range=LAM_TUNE_RANGE):
        store_params(self, locals())
