"""Deblurrer wrapper shared by the known-PSF (non-blind) solvers."""

from __future__ import annotations

import inspect

import numpy as np

from .._tuning import maximize_log_scalar
from ..base import BaseDeblurrer, as_pairs
from ..metrics import psnr


class NonBlindDeblurrer(BaseDeblurrer):
    """A non-blind solver function as a Deblurrer.

    Subclasses set ``_solver`` (the function), ``_tuned`` (the parameter ``fit``
    tunes) and ``_tune_range`` (its search interval). Every constructor parameter
    except ``psf`` is passed to the solver; after ``fit`` the tuned value, stored
    as ``<name>_``, replaces the constructor's value.
    """

    _solver = staticmethod(lambda image, psf, **params: image)
    _tuned = ""
    _tune_range = (1e-3, 1e3)

    def _solver_params(self) -> dict:
        params = self.get_params(deep=False)
        del params["psf"]
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

    def fit(self, blurry, sharp):
        """Tune the solver's free parameter for the best mean PSNR on the pairs; returns self."""
        self._check_psf_given()
        pairs = as_pairs(blurry, sharp)
        params = self._solver_params()
        params.pop(self._tuned)

        def score(value):
            return float(np.mean([psnr(self._solver(b, self.psf, **params, **{self._tuned: value}), s)
                                  for b, s in pairs]))

        setattr(self, self._tuned + "_", maximize_log_scalar(score, *self._tune_range))
        return self


def solver_signature_matches(estimator_cls) -> bool:
    """Whether an estimator's parameters are exactly its solver's keyword parameters + psf."""
    solver = inspect.signature(estimator_cls._solver).parameters
    keywords = {n for n, p in solver.items() if p.kind is p.KEYWORD_ONLY}
    return keywords | {"psf"} == set(estimator_cls._get_param_names())
