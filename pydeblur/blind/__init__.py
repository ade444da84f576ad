"""Blind deconvolution (work in progress, issue 4): coarse-to-fine kernel estimation.

Not part of the public API yet: :func:`pydeblur.blind._estimate.estimate_psf` runs,
but its kernels are not yet accurate enough to ship (see the issue's notes).
"""
