"""The Deblurrer contract shared by every method: fit / restore / score.

* ``__init__`` stores its keyword arguments unchanged, as attributes of the same
  names, and does nothing else;
* ``fit(blurry, sharp)`` learns what the method learns and returns ``self``; fitted
  attributes end in ``_``;
* ``restore(blurry)`` maps one image to one image and a list to a list;
* ``score(blurry, sharp)`` is the mean PSNR of the restorations.

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
            f"call {name}.fit(blurry, sharp) first."
        )


def as_image_list(images, *, name: str) -> tuple[list, bool]:
    """``(list_of_images, was_list)`` from one image or a list / tuple of images."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"{name} is an empty list; pass at least one image.")
        return list(images), True
    return [images], False


def as_pairs(blurry, sharp) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pair up blurry and sharp images given singly or as equal-length lists."""
    blurry_list, _ = as_image_list(blurry, name="blurry")
    sharp_list, _ = as_image_list(sharp, name="sharp")
    if len(blurry_list) != len(sharp_list):
        raise ValueError(
            f"got {len(blurry_list)} blurry and {len(sharp_list)} sharp images; "
            "pass one sharp image per blurry image."
        )
    return list(zip(blurry_list, sharp_list, strict=True))


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

    def fit(self, blurry, sharp):
        """Learn from pairs of blurry and sharp images; returns self."""
        raise NotImplementedError(f"{type(self).__name__} does not implement fit.")

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
        """Mean PSNR (data range 1) of the restorations of ``blurry`` against ``sharp``."""
        from .metrics import psnr

        pairs = as_pairs(blurry, sharp)
        return float(np.mean([psnr(self.restore(b), s) for b, s in pairs]))
