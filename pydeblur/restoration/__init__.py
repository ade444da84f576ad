"""Non-blind deconvolution: the PSF is known.

Every solver is a function and a Deblurrer:

=====================  ===========================  ==============================
function               Deblurrer                    ``fit`` tunes
=====================  ===========================  ==============================
``inverse``            ``InverseDeblurrer``         ``threshold``
``wiener``             ``WienerDeblurrer``          ``balance``
``richardson_lucy``    ``RichardsonLucyDeblurrer``  ``max_iter``
``hyper_laplacian``    ``HyperLaplacianDeblurrer``  ``lam``
``tv``                 ``TVDeblurrer``              ``lam``
``plug_and_play``      ``PlugAndPlayDeblurrer``     ``noise_sigma``
=====================  ===========================  ==============================

``plug_and_play`` uses a learned denoiser and needs the torch extra; it imports torch
only when it runs.

All take ``boundary=`` ('smooth' by default, 'reflect', 'periodic'), colour images
with one PSF or one per channel, keep float32 as float32, and take ``workers`` and
``clip``; the iterative ones take a ``callback``.
"""

from ._problem import estimate_noise_sigma
from .hyper_laplacian import HyperLaplacianDeblurrer, hyper_laplacian
from .plug_and_play import PlugAndPlayDeblurrer, plug_and_play
from .richardson_lucy import RichardsonLucyDeblurrer, richardson_lucy
from .tv import TVDeblurrer, tv
from .wiener import InverseDeblurrer, WienerDeblurrer, inverse, wiener

__all__ = [
    "HyperLaplacianDeblurrer",
    "InverseDeblurrer",
    "PlugAndPlayDeblurrer",
    "RichardsonLucyDeblurrer",
    "TVDeblurrer",
    "WienerDeblurrer",
    "estimate_noise_sigma",
    "hyper_laplacian",
    "inverse",
    "plug_and_play",
    "richardson_lucy",
    "tv",
    "wiener",
]
