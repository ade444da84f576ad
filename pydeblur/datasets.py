"""Sample images and dataset loaders.

Sample photos come from scikit-image's bundled data (no download); folders of pairs
follow the GoPro layout ``<root>/<sequence>/blur/*.png`` with matching
``<root>/<sequence>/sharp/*.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._validation import img_as_float
from .io import IMAGE_SUFFIXES

#: Bundled photos, grey and colour, that ship with scikit-image.
SAMPLE_IMAGES = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "text")


def sample_image(name: str = "astronaut", *, dtype=np.float32) -> np.ndarray:
    """A bundled test photo as a float image in [0, 1].

    Parameters
    ----------
    name : str
        One of :data:`SAMPLE_IMAGES`.
    dtype : {numpy.float32, numpy.float64}
        Output dtype.

    Examples
    --------
    >>> sample_image("camera").shape
    (512, 512)
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"name must be one of {', '.join(SAMPLE_IMAGES)}; got {name!r}.")
    import skimage.data

    return img_as_float(getattr(skimage.data, name)(), dtype=dtype)


def find_pairs(root) -> list[tuple[Path, Path]]:
    """(blurry, sharp) file pairs in a GoPro-layout folder, sorted.

    Raises
    ------
    ValueError
        When no pairs are found or a blurry image has no sharp partner.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder.")
    pairs, missing = [], []
    for blur in sorted(root.glob("*/blur/*")):
        if blur.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        sharp = blur.parent.parent / "sharp" / blur.name
        (pairs if sharp.exists() else missing).append((blur, sharp))
    if missing:
        raise ValueError(
            f"{len(missing)} blurry image(s) in {root} have no sharp partner, e.g. "
            f"{missing[0][1]} is missing; each */blur/NAME needs */sharp/NAME."
        )
    if not pairs:
        raise ValueError(f"no pairs in {root}; expected the layout <sequence>/blur/*.png "
                         "with matching <sequence>/sharp/*.png.")
    return pairs
