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


def load_levin(folder) -> list[dict]:
    """Blind-deblurring benchmark data in the Levin et al. (2009) layout.

    Either a folder of ``.mat`` files, each holding ``x`` (sharp), ``y`` (blurred) and
    ``f`` (kernel), or a folder with ``sharp/``, ``blurry/`` and ``kernel/`` subfolders
    whose files share a stem (images as PNG / JPEG / TIFF, kernels as ``.npy`` or
    images, read by :func:`pydeblur.psf.read`, in convolution orientation). Integer
    images are divided by their type's maximum; kernels are normalised to sum 1.

    In the original ``.mat`` files ``y`` is the *correlation* of ``x`` with ``f``
    (``y ~ convolve(x, f[::-1, ::-1])``, measured: 1-3 grey levels of residual with the
    flipped kernel against 3-15 with ``f``), so the returned ``psf`` is ``f`` flipped,
    the kernel this package convolves with. The kernels are not centred: compare
    results up to a shift.

    Returns
    -------
    list of dict
        ``{"name", "blurry", "sharp", "psf"}`` per case, sorted by name; images are
        float64 in [0, 1].
    """
    from .io import imread, list_images
    from .psf import normalize
    from .psf import read as read_psf

    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder.")
    cases = []
    mats = sorted(folder.glob("*.mat"))
    if mats:
        import scipy.io

        for path in mats:
            try:
                data = scipy.io.loadmat(path)
            except (ValueError, OSError, TypeError) as error:
                raise ValueError(f"{path}: unreadable .mat file ({error}).") from None
            missing = [k for k in ("x", "y", "f") if k not in data]
            if missing:
                raise ValueError(f"{path} lacks the field(s) {missing}; expected x, y and f.")
            sharp, blurry = (_as_unit_float(data[k]) for k in ("x", "y"))
            kernel = np.asarray(data["f"], dtype=np.float64)[::-1, ::-1]  # correlation -> convolution
            cases.append({"name": path.stem, "blurry": blurry, "sharp": sharp,
                          "psf": normalize(np.ascontiguousarray(kernel))})
        return cases
    sub = {name: folder / name for name in ("sharp", "blurry", "kernel")}
    if not all(p.is_dir() for p in sub.values()):
        raise ValueError(f"{folder} holds neither .mat files nor sharp/, blurry/ and kernel/ folders.")
    kernels = {p.stem: p for p in sub["kernel"].iterdir() if p.is_file()}
    sharps = {p.stem: p for p in list_images(sub["sharp"])}
    for blurry_path in list_images(sub["blurry"]):
        name = blurry_path.stem
        if name not in sharps or name not in kernels:
            raise ValueError(f"{blurry_path} has no matching sharp image or kernel named {name}.*")
        cases.append({"name": name, "blurry": imread(blurry_path, dtype=np.float64),
                      "sharp": imread(sharps[name], dtype=np.float64), "psf": read_psf(kernels[name])})
    return cases


def _as_unit_float(array) -> np.ndarray:
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return img_as_float(array, dtype=np.float64)
    return array.astype(np.float64)
