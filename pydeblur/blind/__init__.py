"""Blind deconvolution: the blur kernel is estimated from the blurry photo alone.

:func:`estimate_psf` runs the coarse-to-fine MAP estimation (priors 'l0',
'l0_text', 'dark_channel', and 'learned', whose blur classifier lives in
:mod:`pydeblur.nets.blur_classifier` and needs the torch extra); :func:`blind_deconvolve`
and :class:`BlindDeblurrer` then restore the photo with the non-blind hyper-Laplacian
solver. Nothing here imports torch unless the learned prior is asked for.
"""

from ._deblur import BlindDeblurrer, blind_deconvolve
from ._estimate import PRIORS, estimate_psf

__all__ = ["PRIORS", "BlindDeblurrer", "blind_deconvolve", "estimate_psf"]
