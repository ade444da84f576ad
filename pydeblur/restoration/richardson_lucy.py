"""Richardson-Lucy deconvolution, with optional total-variation regularisation and damping."""

from __future__ import annotations

import numpy as np

from .._validation import check_number
from ..base import store_params
from ._base import NonBlindDeblurrer
from ._problem import check_callback, prepare, report_progress

#: A blurred estimate at or below this value leaves the pixel unchanged (no division by ~0).
_FLOOR = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
#: Smallest allowed denominator of the RL-TV update (keeps the update positive).
_TV_DENOMINATOR_MIN = 0.1


def richardson_lucy(image, psf, *, max_iter: int = 30, tv: float = 0.0, damping=None,
                    boundary: str = "smooth", clip: bool = False, workers=None,
                    callback=None) -> np.ndarray:
    """Richardson-Lucy deconvolution (maximum likelihood under Poisson noise).

    Iterates ``x <- x * H^T(y / Hx)`` from a flat start with the image's mean value.
    Each iteration costs four real FFTs of the padded channel; the PSF's transfer
    function is computed once. With a periodic boundary the total flux is kept
    exactly.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry non-negative float image, (H, W) or (H, W, C).
    psf : numpy.ndarray
        The PSF, 2-D (all channels) or (h, w, C).
    max_iter : int
        Number of iterations (the method's regulariser: fewer is smoother).
    tv : float
        Weight of total-variation regularisation (RL-TV, Dey et al. 2006), in
        [0, 0.05); 0 disables it. Typical values are 0.001-0.01.
    damping : float, optional
        White's damping threshold in image units (e.g. 2-3 noise sigmas): pixels
        whose residual is within it are hardly updated, which stops noise
        amplification. None disables it.
    boundary : {'smooth', 'reflect', 'periodic'}
        How the image is extended before the FFT.
    clip : bool
        Clip the result to [0, 1].
    workers : int, optional
        scipy.fft threads; None uses every core.
    callback : callable, optional
        Called after every iteration as ``callback(info)`` with a dict holding
        ``channel``, ``iteration`` (1-based), ``max_iter`` and ``estimate`` (a read-only
        view of the channel's current estimate, cropped to the image).

    Returns
    -------
    numpy.ndarray
        Restored image, same shape and dtype as ``image``.

    References
    ----------
    W. H. Richardson, JOSA 62(1), 1972; L. B. Lucy, AJ 79(6), 1974;
    N. Dey et al., Microscopy Research and Technique 69(4), 2006;
    R. L. White, "Image restoration using the damped Richardson-Lucy method", 1994.
    """
    from ._kernels import rl_ratio, tv_divergence

    max_iter = check_number(max_iter, name="max_iter", low=1, integer=True)
    tv = check_number(tv, name="tv", low=0, high=0.05, high_inclusive=False)
    damping = 0.0 if damping is None else check_number(damping, name="damping", low=0, low_inclusive=False)
    check_callback(callback)
    problem = prepare(image, psf, boundary=boundary, workers=workers)
    if problem.image.min() < 0:
        raise ValueError(
            f"richardson_lucy needs a non-negative image (Poisson model); its minimum is "
            f"{problem.image.min():.3g}. Clip it first: numpy.clip(image, 0, None)."
        )
    floor = _FLOOR[problem.dtype]
    for c in range(problem.n_channels):
        observed = problem.channel(c)
        blur = problem.operator(c)
        estimate = np.full_like(observed, observed.mean())
        ratio = np.empty_like(observed)
        curvature = np.empty_like(observed) if tv > 0 else None
        for iteration in range(1, max_iter + 1):
            rl_ratio(observed, blur.apply(estimate), floor, damping, ratio)
            correction = blur.adjoint(ratio)
            if tv > 0:
                tv_divergence(estimate, floor, curvature)
                denominator = np.maximum(1 - tv * curvature, _TV_DENOMINATOR_MIN)
                correction /= denominator
            estimate *= correction
            report_progress(callback, problem, c, estimate, iteration=iteration, max_iter=max_iter)
        problem.store(c, estimate)
    return problem.result(clip)


class RichardsonLucyDeblurrer(NonBlindDeblurrer):
    """Richardson-Lucy as a Deblurrer; ``fit(blurry, sharp)`` picks the best ``max_iter`` (-> ``max_iter_``).

    ``fit`` runs the largest iteration count of ``tune_range`` (default: four times
    ``max_iter``) once per pair and keeps the count in ``tune_range`` with the best mean
    PSNR; the user's ``callback`` still sees every iteration. There is no rule for the
    count from a blurry image alone, so ``fit`` needs pairs.
    """

    _solver = staticmethod(richardson_lucy)
    _tuned = "max_iter"

    def __init__(self, *, psf=None, max_iter=30, tv=0.0, damping=None, boundary="smooth",
                 clip=False, workers=None, callback=None, tune_range=None):
        store_params(self, locals())

    def _iteration_range(self) -> tuple[int, int]:
        if self.tune_range is None:
            return 1, 4 * check_number(self.max_iter, name="max_iter", low=1, integer=True)
        try:
            low, high = (check_number(v, name="tune_range", low=1, integer=True) for v in self.tune_range)
        except TypeError:
            raise ValueError(f"tune_range must be None or a (low, high) pair of iteration counts, "
                             f"got {self.tune_range!r}.") from None
        if low > high:
            raise ValueError(f"tune_range must have low <= high, got {self.tune_range!r}.")
        return low, high

    def fit(self, blurry, sharp=None):
        """Choose the iteration count with the best mean PSNR on the pairs; returns self."""
        from ..base import as_pairs

        self._check_psf_given()
        if sharp is None:
            return super().fit(blurry)  # no unsupervised rule: a clear error
        low, high = self._iteration_range()
        params = self._solver_params()
        params["max_iter"] = high
        user_callback = check_callback(params.pop("callback"))
        total = np.zeros(high)
        for b, s in as_pairs(blurry, sharp):
            errors = np.zeros(high)
            pixels = s.size

            def record(info, s=s, errors=errors, pixels=pixels):
                target = s if s.ndim == 2 else s[:, :, info["channel"]]
                errors[info["iteration"] - 1] += np.sum((info["estimate"] - target) ** 2) / pixels
                if user_callback is not None:
                    user_callback(info)

            richardson_lucy(b, self.psf, **params, callback=record)
            total += [psnr_from_mse(e) for e in errors]
        self.max_iter_ = low + int(np.argmax(total[low - 1 :]))
        return self


def psnr_from_mse(mse: float) -> float:
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))
