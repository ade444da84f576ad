"""numba kernels of the dark-channel prior: patch minimum with its position."""

import numba
import numpy as np


@numba.njit(cache=True)
def dark_channel(image, patch):  # pragma: no cover - compiled
    """Minimum of ``image`` over the ``patch x patch`` window around every pixel.

    Returns the minima and, for every pixel, the flat index of the pixel holding its
    window's minimum (the mapping M of Pan et al. 2016). Computed separably: a running
    row minimum with its column, then a column minimum over those.
    """
    rows, cols = image.shape
    r = patch // 2
    row_min = np.empty_like(image)
    row_arg = np.empty((rows, cols), dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            best = image[i, j]
            where = j
            for q in range(max(0, j - r), min(cols, j + r + 1)):
                if image[i, q] < best:
                    best = image[i, q]
                    where = q
            row_min[i, j] = best
            row_arg[i, j] = where
    out = np.empty_like(image)
    index = np.empty((rows, cols), dtype=np.int64)
    for j in range(cols):
        for i in range(rows):
            best = row_min[i, j]
            where = i * cols + row_arg[i, j]
            for p in range(max(0, i - r), min(rows, i + r + 1)):
                if row_min[p, j] < best:
                    best = row_min[p, j]
                    where = p * cols + row_arg[p, j]
            out[i, j] = best
            index[i, j] = where
    return out, index
