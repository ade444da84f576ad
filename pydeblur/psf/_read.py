"""Reading a PSF from a file: the one reader behind ``--psf FILE`` and the dataset loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._utils import normalize


def read(path) -> np.ndarray:
    """A PSF from a ``.npy`` file or an image file, as a float64 kernel summing to 1.

    ``.npy`` files are read without pickle and must hold a real 2-D array. Images are
    read as grey: an alpha channel is dropped (it is opacity, not kernel mass) and RGB
    channels are averaged. The kernel must be finite and non-negative with a positive sum.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a 2-D real, finite, non-negative kernel with a positive sum, or unreadable.
    """
    from ..io import imread

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PSF file {path} does not exist.")
    if path.suffix.lower() == ".npy":
        try:
            kernel = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"{path}: not a plain .npy array ({error}); save the PSF with numpy.save "
                             "as a 2-D float array.") from None
        if np.iscomplexobj(kernel):
            raise ValueError(f"{path} holds a complex array; a PSF is real. Save its real part "
                             "(numpy.real) if that is what you mean.")
        if not (np.issubdtype(kernel.dtype, np.floating) or np.issubdtype(kernel.dtype, np.integer)):
            raise ValueError(f"{path} holds {kernel.dtype} data; a PSF is an array of numbers.")
    else:
        kernel = imread(path, alpha="drop", dtype=np.float64)
        kernel = kernel.mean(axis=2) if kernel.ndim == 3 else kernel
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or not np.isfinite(kernel).all() or kernel.min() < 0 or kernel.sum() <= 0:
        low = f", minimum {kernel.min():.3g}" if kernel.size else ""
        raise ValueError(f"{path}: a PSF must be a finite, non-negative 2-D array with a positive sum; "
                         f"got shape {kernel.shape}{low}.")
    return normalize(kernel)
