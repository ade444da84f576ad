"""The Deblurrer contract shared by every method: fit / restore / score.

* ``__init__`` stores its keyword arguments unchanged, as attributes of the same
  names, and does nothing else;
* ``fit(blurry, sharp=None)`` learns what the method learns and returns ``self``;
  fitted attributes end in ``_`` and only ``fit`` sets them. Without ``sharp`` a method
  learns what the blurry image(s) alone tell, as an unsupervised scikit-learn estimator
  does (a blind method its kernel, a non-blind one its free parameter by its 'auto'
  rule); with ``sharp`` it tunes (or trains) on the pairs. A method that can learn
  nothing from blurry images alone says so;
* ``fit_restore(blurry)`` is ``fit(blurry).restore(blurry)``, as ``fit_transform`` is;
* ``restore(blurry)`` maps one image to one image and a list to a list, and changes no
  state;
* ``score(blurry, sharp)`` is the mean PSNR of the restorations; methods that can shift
  the image (blind ones) score after the best shift (:func:`pydeblur.psnr_upto_shift`).

``get_params`` / ``set_params`` follow scikit-learn's duck typing, so
``sklearn.base.clone`` works without pydeblur depending on scikit-learn.
"""

from __future__ import annotations

import inspect

import numpy as np


class NotFittedError(ValueError, AttributeError):
    """Raised when a method that needs ``fit`` is used before it."""


def check_is_fitted(estimator, attributes) -> None:
    """Raise NotFittedError unless every name in ``attributes`` is set on ``estimator``."""
    missing = [name for name in attributes if getattr(estimator, name, None) is None]
    if missing:
        name = type(estimator).__name__
        raise NotFittedError(
            f"This {name} is not fitted yet (missing {', '.join(missing)}); "
            f"call {name}.fit(...) first."
        )


def as_image_list(images, *, name: str) -> tuple[list, bool]:
    """``(list_of_images, was_list)`` from one image or a list / tuple of images."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"{name} is an empty list; pass at least one image.")
        return list(images), True
    return [images], False


def as_pairs(blurry, sharp) -> list[tuple[np.ndarray, np.ndarray]]:
    """Checked pairs of blurry and sharp images given singly or as equal-length lists.

    Every image passes :func:`pydeblur._validation.check_image` (float, finite, 2-D or
    3-D), and each sharp image must have its blurry image's shape.
    """
    from ._validation import check_image

    blurry_list, _ = as_image_list(blurry, name="blurry")
    sharp_list, _ = as_image_list(sharp, name="sharp")
    if len(blurry_list) != len(sharp_list):
        raise ValueError(
            f"got {len(blurry_list)} blurry and {len(sharp_list)} sharp images; "
            "pass one sharp image per blurry image."
        )
    pairs = []
    for index, (b, s) in enumerate(zip(blurry_list, sharp_list, strict=True)):
        b, s = check_image(b, name="blurry"), check_image(s, name="sharp")
        if b.shape != s.shape:
            raise ValueError(f"pair {index}: the blurry image is {b.shape} but the sharp one is {s.shape}; "
                             "each sharp image must match its blurry image (crop them alike).")
        pairs.append((b, s))
    return pairs


def store_params(estimator, values: dict) -> None:
    """Set every constructor parameter of ``estimator`` from ``values`` (its ``locals()``).

    ``__init__`` methods call ``store_params(self, locals())`` so that each parameter is
    stored unchanged under its own name, and nothing else happens.
    """
    for name in estimator._get_param_names():
        setattr(estimator, name, values[name])


def _short_repr(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    return repr(value)


class BaseDeblurrer:
    """Base class of every pydeblur method.

    Subclasses implement ``_restore_one(image)`` and, when they learn from data,
    ``fit``. Methods that cannot restore before fitting list the fitted attributes
    they need in ``_fitted_attributes``.
    """

    _fitted_attributes: tuple[str, ...] = ()
    #: Whether ``score`` compares after the best shift (methods whose output can move).
    _score_upto_shift = False

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        names = []
        for parameter in signature.parameters.values():
            if parameter.name == "self":
                continue
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args / **kwargs).")
            names.append(parameter.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as a dict (``deep`` is accepted for scikit-learn)."""
        params = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            params[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        """Set constructor parameters (``name__sub`` reaches nested estimators); returns self."""
        valid = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; valid parameters: "
                    f"{', '.join(valid)}."
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            same = value is default or (
                not isinstance(value, np.ndarray) and not isinstance(default, np.ndarray)
                and type(value) is type(default) and value == default
            )
            if not same:
                shown.append(f"{name}={_short_repr(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def fit(self, blurry, sharp=None):
        """Learn from blurry images alone, or from pairs of blurry and sharp images; returns self."""
        raise NotImplementedError(f"{type(self).__name__} does not implement fit.")

    def fit_restore(self, blurry):
        """Fit on ``blurry`` alone, then restore it (``fit(blurry).restore(blurry)``)."""
        return self.fit(blurry).restore(blurry)

    def _restore_one(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def restore(self, blurry):
        """Restore one blurry image, or each image of a list.

        Parameters
        ----------
        blurry : numpy.ndarray or list of numpy.ndarray
            Float image(s), (H, W) or (H, W, C).

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            One restored image per input, same shape and dtype.
        """
        check_is_fitted(self, self._fitted_attributes)
        images, was_list = as_image_list(blurry, name="blurry")
        restored = [self._restore_one(image) for image in images]
        return restored if was_list else restored[0]

    def score(self, blurry, sharp) -> float:
        """Mean PSNR (data range 1) of the restorations of ``blurry`` against ``sharp``.

        Methods that can shift the image (``_score_upto_shift``: the blind ones, whose
        kernel is only known up to a translation) are scored after the best shift within
        10 px with a 15 px border (:func:`pydeblur.psnr_upto_shift`, the blind-deblurring
        protocol); the others pixel for pixel, since a shift is then an error.
        """
        from .metrics import psnr, psnr_upto_shift

        measure = psnr_upto_shift if self._score_upto_shift else psnr
        pairs = as_pairs(blurry, sharp)
        return float(np.mean([measure(self.restore(b), s) for b, s in pairs]))
