"""pydeblur: classical-plus-learned image deconvolution.

Public names are loaded lazily (PEP 562), so ``import pydeblur`` stays fast and never
imports torch or compiles numba kernels. ``__init__.pyi`` states the same names for type
checkers and IDEs (a test keeps the two in step).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "img_as_float": "pydeblur._validation",
    "imread": "pydeblur.io",
    "imwrite": "pydeblur.io",
    "image_info": "pydeblur.io",
    "convolve": "pydeblur.operators",
    "convolve_adjoint": "pydeblur.operators",
    "convolve_spatially_varying": "pydeblur.operators",
    "pad_boundary": "pydeblur.operators",
    "psnr": "pydeblur.metrics",
    "ssim": "pydeblur.metrics",
    "psnr_upto_shift": "pydeblur.metrics",
    "ssim_upto_shift": "pydeblur.metrics",
    "kernel_similarity": "pydeblur.metrics",
    "BaseDeblurrer": "pydeblur.base",
    "NotFittedError": "pydeblur.base",
    "sample_image": "pydeblur.datasets",
    "degrade": "pydeblur.synth",
    "PSFSampler": "pydeblur.synth",
    "inverse": "pydeblur.restoration",
    "wiener": "pydeblur.restoration",
    "richardson_lucy": "pydeblur.restoration",
    "hyper_laplacian": "pydeblur.restoration",
    "tv": "pydeblur.restoration",
    "estimate_noise_sigma": "pydeblur.restoration",
    "InverseDeblurrer": "pydeblur.restoration",
    "WienerDeblurrer": "pydeblur.restoration",
    "RichardsonLucyDeblurrer": "pydeblur.restoration",
    "HyperLaplacianDeblurrer": "pydeblur.restoration",
    "TVDeblurrer": "pydeblur.restoration",
    "plug_and_play": "pydeblur.restoration",
    "PlugAndPlayDeblurrer": "pydeblur.restoration",
    "denoise": "pydeblur.nets.denoiser",
    "blur_map": "pydeblur.nets.blur_map",
    "blur_score": "pydeblur.nets.blur_map",
    "blind_deconvolve": "pydeblur.blind",
    "estimate_psf": "pydeblur.blind",
    "BlindDeblurrer": "pydeblur.blind",
    "SRNDeblur": "pydeblur.nets",
    "DeepDeblur": "pydeblur.nets",
    "DeblurGAN": "pydeblur.nets",
    "NAFNetDeblur": "pydeblur.nets",
    "BaselineCNN": "pydeblur.nets",
    "BlurRecipe": "pydeblur.synth",
}
_SUBMODULES = ("psf", "synth", "operators", "restoration", "blind", "nets", "methods", "metrics", "io",
               "datasets", "base", "viz", "cli")

__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"pydeblur.{name}")
    raise AttributeError(f"module 'pydeblur' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
