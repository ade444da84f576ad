"""Deblurrer wrapper shared by the known-PSF (non-blind) solvers."""

from __future__ import annotations

import inspect

import numpy as np

from .._tuning import tune_on_pairs
from ..base import BaseDeblurrer, as_image_list, as_pairs


class NonBlindDeblurrer(BaseDeblurrer):
    """A non-blind solver function as a Deblurrer.

    Subclasses set ``_solver`` (the function) and ``_tuned`` (the parameter ``fit``
    tunes), and take a ``tune_range`` constructor parameter (the search interval of
    ``fit`` on pairs). Every other constructor parameter except ``psf`` is passed to
    the solver; after ``fit`` the fitted value, stored as ``<name>_``, replaces the
    constructor's value.

    ``fit(blurry)`` without sharp images applies the solver's 'auto' rule
    (``_auto_values``: one value per channel the solver sees, from the image alone) and
    keeps the values, so that later ``restore`` calls use them unchanged; several images
    give the geometric mean of their values. Solvers with no such rule refuse.
    """

    _solver = staticmethod(lambda image, psf, **params: image)
    _tuned = ""
    #: ``_auto_values(image, psf, params) -> per-channel values``, or None (no unsupervised rule).
    _auto_values = None

    def _solver_params(self) -> dict:
        params = self.get_params(deep=False)
        del params["psf"], params["tune_range"]
        fitted = getattr(self, self._tuned + "_", None)
        if fitted is not None:
            params[self._tuned] = fitted
        return params

    def _check_psf_given(self):
        if self.psf is None:
            raise ValueError(
                f"{type(self).__name__} needs the blur kernel: pass psf=... (a 2-D array); "
                "for an unknown kernel use a blind method."
            )

    def _restore_one(self, image):
        self._check_psf_given()
        return self._solver(image, self.psf, **self._solver_params())

    def fit(self, blurry, sharp=None):
        """Fix the solver's free parameter; returns self.

        With ``sharp``: the value in ``tune_range`` with the best mean PSNR on the pairs.
        Without: the solver's 'auto' rule applied to the blurry image(s), kept per channel.
        """
        self._check_psf_given()
        params = self._solver_params()
        params.pop(self._tuned)
        if sharp is None:
            setattr(self, self._tuned + "_", self._fit_unsupervised(blurry, params))
            return self
        pairs = as_pairs(blurry, sharp)

        def restore_with(b, value, _index):
            return self._solver(b, self.psf, **params, **{self._tuned: value})

        setattr(self, self._tuned + "_", tune_on_pairs(restore_with, pairs, self.tune_range))
        return self

    def _fit_unsupervised(self, blurry, params) -> np.ndarray:
        if self._auto_values is None:
            raise ValueError(
                f"{type(self).__name__} has no rule that sets {self._tuned} from blurry images alone; "
                f"pass sharp images to tune it (fit(blurry, sharp)), or call restore without fitting."
            )
        images, _ = as_image_list(blurry, name="blurry")
        values = [np.asarray(type(self)._auto_values(image, self.psf, params), dtype=np.float64)
                  for image in images]
        if len({v.shape for v in values}) > 1:
            raise ValueError(f"the images have different numbers of channels ({[v.size for v in values]}); "
                             "fit on images of one kind (all grey or all colour).")
        return np.exp(np.mean(np.log(np.maximum(values, 1e-300)), axis=0))


def solver_signature_matches(estimator_cls) -> bool:
    """Whether an estimator's parameters are exactly its solver's keyword parameters + psf, tune_range."""
    solver = inspect.signature(estimator_cls._solver).parameters
    keywords = {n for n, p in solver.items() if p.kind is p.KEYWORD_ONLY}
    return keywords | {"psf", "tune_range"} == set(estimator_cls._get_param_names())
