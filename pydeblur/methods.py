"""Every deblurring method under one name: the registry behind ``pydeblur restore`` and ``bench``.

>>> from pydeblur.methods import METHODS, make
>>> sorted(METHODS)[:3]
['baseline', 'blind', 'deblurgan']
>>> make("wiener", psf=parse_psf("motion:length=9,angle=30"))
WienerDeblurrer(psf=array(shape=(9, 9), dtype=float64))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Method:
    """A deblurring method: its Deblurrer class, whether it needs the PSF, and its family."""

    module: str
    cls: str
    needs_psf: bool
    kind: str  # 'non-blind', 'blind' or 'network'
    weights: str | None = None  # the shipped weights it needs by default (torch extra), if any

    def load(self):
        import importlib

        return getattr(importlib.import_module(self.module), self.cls)


METHODS = {
    "inverse": Method("pydeblur.restoration", "InverseDeblurrer", True, "non-blind"),
    "wiener": Method("pydeblur.restoration", "WienerDeblurrer", True, "non-blind"),
    "rl": Method("pydeblur.restoration", "RichardsonLucyDeblurrer", True, "non-blind"),
    "hyper-laplacian": Method("pydeblur.restoration", "HyperLaplacianDeblurrer", True, "non-blind"),
    "tv": Method("pydeblur.restoration", "TVDeblurrer", True, "non-blind"),
    "pnp": Method("pydeblur.restoration", "PlugAndPlayDeblurrer", True, "non-blind", "denoiser"),
    "blind": Method("pydeblur.blind", "BlindDeblurrer", False, "blind"),
    "srn": Method("pydeblur.nets", "SRNDeblur", False, "network", "srn-small"),
    "deepdeblur": Method("pydeblur.nets", "DeepDeblur", False, "network", "deepdeblur-small"),
    "deblurgan": Method("pydeblur.nets", "DeblurGAN", False, "network", "deblurgan-small"),
    "nafnet": Method("pydeblur.nets", "NAFNetDeblur", False, "network", "nafnet-small"),
    "baseline": Method("pydeblur.nets", "BaselineCNN", False, "network"),  # no shipped weights
}

#: Image priors of blind kernel estimation (:func:`pydeblur.estimate_psf`'s ``prior``).
PRIORS = ("l0", "l0_text", "dark_channel", "learned")
#: Final non-blind steps of the blind route (see pydeblur.blind.final_restoration); 'auto'
#: is 'plug_and_play' (the learned prior) when torch is installed and 'hyper_laplacian' otherwise.
FINAL_STEPS = ("auto", "hyper_laplacian", "plug_and_play", "fusion")
#: Numeric precisions of the networks: 'auto' takes bf16 where the hardware runs it natively.
PRECISIONS = ("auto", "fp32", "bf16")


def names(kind: str) -> tuple[str, ...]:
    """Method names of one kind: 'non-blind', 'blind' or 'network'.

    >>> names("network")
    ('srn', 'deepdeblur', 'deblurgan', 'nafnet', 'baseline')
    """
    kinds = {m.kind for m in METHODS.values()}
    if kind not in kinds:
        raise ValueError(f"kind must be one of {sorted(kinds)}, got {kind!r}.")
    return tuple(name for name, method in METHODS.items() if method.kind == kind)


def psf_size_for(kernel_shape) -> int:
    """The kernel side to estimate for a blur about ``kernel_shape`` big: its side + 4, made odd.

    A little margin around the true support lets the estimate move without being cut.

    >>> psf_size_for((21, 21)), psf_size_for((20, 18))
    (25, 25)
    """
    return int(max(kernel_shape[:2])) + 4 | 1


_PSF_SPECS = {
    "gaussian": ("sigma", "size", "angle"),
    "defocus": ("radius", "size"),
    "motion": ("length", "angle", "size"),
}


def parse_psf(spec) -> np.ndarray:
    """A PSF from a file (.npy, or an image) or a spec such as ``"motion:length=15,angle=30"``.

    Specs: ``gaussian:sigma=S[,size=N,angle=A]``, ``defocus:radius=R[,size=N]``,
    ``motion:length=L[,angle=A,size=N]``. Files are read by :func:`pydeblur.psf.read`
    (``.npy`` without pickle, or an image read as grey without its alpha channel).
    """
    from . import psf as psf_module

    text = str(spec)
    family, sep, rest = text.partition(":")
    if sep and family in _PSF_SPECS:
        params = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in _PSF_SPECS[family]:
                raise ValueError(f"PSF spec {text!r}: {item!r} is not one of "
                                 f"{', '.join(k + '=...' for k in _PSF_SPECS[family])}.")
            if key in params:
                raise ValueError(f"PSF spec {text!r} gives {key} twice; give each parameter once.")
            try:
                params[key] = int(value) if key == "size" else float(value)
            except ValueError:
                kind = "an integer" if key == "size" else "a number"
                raise ValueError(f"PSF spec {text!r}: {key}={value!r} is not {kind}.") from None
        try:
            return getattr(psf_module, family)(**params)
        except TypeError as error:
            raise ValueError(f"PSF spec {text!r}: {error}") from None
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"--psf {text!r} is neither a file nor a spec; give a .npy / image file or e.g. "
                         f"'motion:length=15,angle=30' ({', '.join(_PSF_SPECS)}).")
    return psf_module.read(path)


def make(name: str, *, psf=None, weights=None, **params):
    """A ready Deblurrer for a method name.

    Parameters
    ----------
    name : str
        One of :data:`METHODS`.
    psf : numpy.ndarray, optional
        The PSF; required by the non-blind methods, refused by the others.
    weights : str or os.PathLike, optional
        Networks: a shipped name or a .safetensors file (default ``"<name>-small"``).
    **params
        Constructor parameters of the method's Deblurrer (for networks e.g. ``device``,
        ``precision``, ``tile``).
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}.")
    method = METHODS[name]
    cls = method.load()
    if method.needs_psf:
        if psf is None:
            raise ValueError(f"method {name!r} needs the PSF (--psf FILE or a spec like 'motion:length=15').")
        return cls(psf=psf, **params)
    if psf is not None:
        raise ValueError(f"method {name!r} estimates the blur itself; it takes no PSF. Use a non-blind "
                         "method (wiener, rl, hyper-laplacian, tv, inverse) to deblur with a known PSF.")
    if method.kind == "network":
        if weights is None and method.weights is None:
            raise ValueError(f"method {name!r} ships no weights (it is a baseline to train: pydeblur train "
                             f"{name} ...); pass the weights file it wrote (--weights FILE).")
        return cls.from_pretrained(weights or method.weights, **params)
    if weights is not None:
        raise ValueError(f"method {name!r} has no weights; weights apply to the networks only.")
    return cls(**params)
