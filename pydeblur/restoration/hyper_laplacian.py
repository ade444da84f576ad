"""Fast deconvolution with a hyper-Laplacian image prior (Krishnan & Fergus 2009)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_number
from ..base import store_params
from ..operators import clipped_highlights, gradient_energy, seen_mask
from ._base import NonBlindDeblurrer
from ._problem import auto_lams, check_callback, prepare, report_progress, resolve_lam

#: lam = AUTO_LAM_SCALE / sigma^2 under lam="auto"; calibrated on BSDS500 *train* photos
#: (benchmarks/calibrate_auto.py).
#: Search interval of ``fit`` on pairs for ``lam``.
LAM_TUNE_RANGE = (10.0, 1e5)
AUTO_LAM_SCALE = 0.25
_SPECIAL_ALPHAS = (0.5, 2.0 / 3.0, 1.0)
_BETA_RATE = 2 * math.sqrt(2)


def _shrinkage_table(beta: float, alpha: float, top: float, size: int = 1024):
    """Grid of |v| in [0, top] and the minimiser of ``|w|^alpha + beta/2 (w - |v|)^2`` on it.

    A brute-force search over ``size`` candidates per entry brackets the minimiser
    (which lies in [0, |v|]); a few Newton steps on the stationarity condition
    polish every non-zero entry.
    """
    grid = np.linspace(0.0, max(top, 1e-6), size)
    candidates = np.linspace(0.0, 1.0, size)[None, :] * grid[:, None]
    cost = candidates**alpha + 0.5 * beta * (candidates - grid[:, None]) ** 2
    w = candidates[np.arange(size), np.argmin(cost, axis=1)]
    nonzero = w > 0
    wn, vn = w[nonzero], grid[nonzero]
    for _ in range(4):
        gradient = alpha * wn ** (alpha - 1) + beta * (wn - vn)
        curvature = alpha * (alpha - 1) * wn ** (alpha - 2) + beta
        step = np.where(curvature > 0, gradient / np.where(curvature > 0, curvature, 1), 0)
        wn = np.clip(wn - step, 1e-12, vn)
    better = wn**alpha + 0.5 * beta * (wn - vn) ** 2 < 0.5 * beta * vn**2
    w[nonzero] = np.where(better, wn, 0.0)
    return grid, w


def _lookup_shrinkage(values, beta, alpha, out, table=None):
    """Shrinkage for any alpha in (0, 1) by interpolating a :func:`_shrinkage_table`."""
    grid, w = table if table is not None else _shrinkage_table(beta, alpha, float(np.abs(values).max()))
    out[...] = np.sign(values) * np.interp(np.abs(values), grid, w)


#: Conjugate-gradient steps of each x step on a padded grid, which fits the seen pixels only
#: (:meth:`~pydeblur.operators.BlurOperator.solve_seen`; the padding stands for unseen scene).
#: 'auto' weight, Levin 2009 development half true kernels / estimated kernels / BSDS val x Levin
#: kernels: 31.92 / 31.63 / 28.69 dB with one border refill per x step (the earlier rule),
#: 32.68 / 32.24 / 28.75 with 3 steps, 32.95 / 32.38 / 28.76 with 6, 33.12 / 32.49 / 28.77 with 15,
#: at 2.2x / 3x / 5.4x the time. 0: the refill.
SEEN_ITERATIONS = 6


def hyper_laplacian(image, psf, *, lam="auto", alpha: float = 2.0 / 3.0, beta_init: float = 1.0,
                    beta_max: float = 256.0, beta_rate: float = _BETA_RATE, inner_iter: int = 1,
                    boundary: str = "smooth", colour_space: str = "auto", clip: bool = False,
                    workers=None, callback=None) -> np.ndarray:
    """Non-blind deconvolution with a hyper-Laplacian gradient prior, by half-quadratic splitting.

    Minimises ``lam/2 ||k * x - y||^2 + sum |grad x|^alpha``: auxiliary gradients ``w``
    are introduced with a penalty ``beta/2 ||w - grad x||^2`` whose weight grows from
    ``beta_init`` to ``beta_max`` by ``beta_rate``. The ``x`` step is one Fourier-domain
    solve (with a boundary extension or clipped highlights, ``SEEN_ITERATIONS``
    conjugate-gradient steps that fit the seen pixels only: the extension stands for unseen
    scene, and clipped highlights, :func:`~pydeblur.operators.clipped_highlights`, hold no
    measure of the blur), the ``w`` step a
    per-pixel shrinkage solved in closed form for alpha = 1/2 and 2/3 (and 1), and through
    a lookup table for other alpha.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C).
    psf : numpy.ndarray
        The PSF, 2-D (all channels) or (h, w, C).
    lam : 'auto', float or sequence of float
        Weight of the data term (one number, or one per channel the solver sees, as
        ``fit`` stores it). 'auto' uses ``0.25 / sigma^2`` per channel with
        ``sigma`` the image's estimated noise level.
    alpha : float
        Exponent of the prior, in (0, 1]; natural images fit 0.5-0.8.
    beta_init, beta_max, beta_rate : float
        Continuation schedule of the splitting weight.
    inner_iter : int
        Alternations per value of beta.
    boundary : {'smooth', 'reflect', 'periodic'}
        How the image is extended before the FFT. The extension stands for scene
        outside the frame and only starts the iteration: each x step refills it with
        the re-blurred estimate, so the data term ends up acting on the observed
        pixels alone (two more FFTs per step).
    colour_space : {'auto', 'opponent', 'rgb'}
        As in :func:`pydeblur.restoration.wiener`: by default the prior acts on the
        luminance and chroma gradients of an RGB image, not on R, G and B.
    clip : bool
        Clip the result to [0, 1].
    workers : int, optional
        scipy.fft threads; None uses every core.
    callback : callable, optional
        ``callback(info)`` after every x step, with ``channel``, ``iteration``,
        ``max_iter``, ``beta`` and ``estimate`` (read-only, cropped).

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.

    References
    ----------
    D. Krishnan and R. Fergus, "Fast image deconvolution using hyper-Laplacian
    priors", NIPS 2009.
    """
    from ._kernels import adjoint_differences, forward_differences, shrink_hyper_laplacian

    alpha = check_number(alpha, name="alpha", low=0, high=1, low_inclusive=False)
    beta_init = check_number(beta_init, name="beta_init", low=0, low_inclusive=False)
    beta_max = check_number(beta_max, name="beta_max", low=beta_init)
    beta_rate = check_number(beta_rate, name="beta_rate", low=1, low_inclusive=False)
    inner_iter = check_number(inner_iter, name="inner_iter", low=1, integer=True)
    check_callback(callback)
    problem = prepare(image, psf, boundary=boundary, workers=workers, colour_space=colour_space,
                      narrow=SEEN_ITERATIONS > 0)  # the x steps fit the seen pixels only
    lams = resolve_lam(lam, problem, AUTO_LAM_SCALE)
    betas = [beta_init]
    while betas[-1] * beta_rate <= beta_max * (1 + 1e-9):
        betas.append(betas[-1] * beta_rate)
    special = any(abs(alpha - a) < 1e-12 for a in _SPECIAL_ALPHAS)
    alpha = next((a for a in _SPECIAL_ALPHAS if abs(alpha - a) < 1e-12), alpha)
    grad_energy = gradient_energy(problem.shape, problem.dtype)
    total = len(betas) * inner_iter
    clipped = clipped_highlights(problem.image)
    for c in range(problem.n_channels):
        lam_c = problem.dtype.type(lams[c] if lams.size > 1 else lams[0])
        observed = problem.channel(c)
        blur = problem.operator(c)
        seen = None
        if SEEN_ITERATIONS and (problem.padded or clipped.any()):
            seen = seen_mask(problem.shape, problem.crop, clipped)
            seen_data = blur.seen_data_term(observed, seen, lam_c)
        else:
            data_term = blur.data_term(observed, lam_c)
        x = observed
        gx, gy, wx, wy = (np.empty_like(x) for _ in range(4))
        zero = np.zeros((1, 1), dtype=x.dtype)
        step = 0
        for beta in betas:
            for _ in range(inner_iter):
                forward_differences(x, gx, gy)
                if special:
                    shrink_hyper_laplacian(gx, float(beta), alpha, wx)
                    shrink_hyper_laplacian(gy, float(beta), alpha, wy)
                else:
                    table = _shrinkage_table(float(beta), alpha,
                                             float(max(np.abs(gx).max(), np.abs(gy).max())))
                    _lookup_shrinkage(gx, float(beta), alpha, wx, table)
                    _lookup_shrinkage(gy, float(beta), alpha, wy, table)
                none = np.broadcast_to(zero, x.shape)  # nothing to subtract, without a buffer
                adjoint_differences(wx, wy, none, none, gx)
                if seen is not None:
                    gx *= problem.dtype.type(beta)
                    gx += seen_data
                    x = blur.solve_seen(gx, seen, x, SEEN_ITERATIONS, weight=lam_c,
                                        prior_spectrum=grad_energy, prior_weight=beta)
                else:
                    spectrum = blur.rfft2(gx)
                    spectrum *= problem.dtype.type(beta)
                    spectrum += data_term
                    spectrum = blur.solve(spectrum, weight=lam_c, prior_spectrum=grad_energy,
                                          prior_weight=beta, out_spectrum=True)
                    x = blur.irfft2(spectrum)
                    if problem.padded:
                        observed = blur.reestimate_border(spectrum, observed, problem.crop)
                        data_term = blur.data_term(observed, lam_c)
                    del spectrum
                step += 1
                report_progress(callback, problem, c, x, iteration=step, max_iter=total, beta=beta)
        problem.store(c, x)
    return problem.result(clip)


class HyperLaplacianDeblurrer(NonBlindDeblurrer):
    """Hyper-Laplacian deconvolution as a Deblurrer; ``fit`` fixes ``lam`` (-> ``lam_``).

    ``fit(blurry)`` alone keeps the 'auto' weight of every channel; ``fit(blurry, sharp)``
    tunes one weight in ``tune_range`` for the best mean PSNR on the pairs.
    """

    _solver = staticmethod(hyper_laplacian)
    _tuned = "lam"

    @staticmethod
    def _auto_values(image, psf, params):
        return auto_lams(image, psf, params, AUTO_LAM_SCALE)

    def __init__(self, *, psf=None, lam="auto", alpha=2.0 / 3.0, beta_init=1.0, beta_max=256.0,
                 beta_rate=_BETA_RATE, inner_iter=1, boundary="smooth", colour_space="auto",
                 clip=False, workers=None, callback=None, tune_range=LAM_TUNE_RANGE):
        store_params(self, locals())
