"""Reading and writing images: PNG, JPEG, TIFF; 8 and 16 bit; float32 in [0, 1].

Writes are atomic: the image is encoded in memory, written to a temporary file in the
destination folder and renamed over the destination, so a crash never leaves a
half-written file. Nothing is overwritten unless ``overwrite=True`` is passed.
"""

from __future__ import annotations

import io as _io
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ._validation import check_choice, check_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
# Files are created with the permissions an ordinary open() would give (mkstemp uses 0600).
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
_JPEG_SUFFIXES = (".jpg", ".jpeg")
#: Default largest image imread decodes: 100 megapixels (1.2 GB as float32 RGB).
MAX_PIXELS = 100_000_000
_EXIF_ORIENTATION = 0x0112
#: EXIF orientation -> what turns the stored pixels upright (as a viewer shows them).
_ORIENTATIONS = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
    8: lambda a: np.swapaxes(a, 0, 1)[::-1],
}
#: Names of write_bytes_atomic's temporary files: ``.<name>.<mkstemp's 8 characters>.tmp``.
_TEMPORARY = re.compile(r"\.(.+)\.[A-Za-z0-9_]{8}\.tmp")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported image format {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(IMAGE_SUFFIXES)}."
        )
    return suffix


def _header(path: Path, data: bytes, max_pixels) -> int:
    """Check a file's header before decoding; returns its EXIF orientation (1 = as stored).

    Refuses files that are not images, images of more than ``max_pixels`` pixels (before
    any memory is spent on them) and multi-page TIFFs (pydeblur reads one image per file).
    """
    width, height, frames, orientation, _ = _read_header(path, data)
    if width is None or (max_pixels is not None and width * height > max_pixels):
        size = "over 179 million" if width is None else f"{width}x{height} = {width * height:,}"
        raise ValueError(f"{path}: {size} pixels, more than the limit of {max_pixels:,}; raise it with "
                         "max_pixels= (--max-pixels on the command line) if you have the memory.")
    if frames > 1:
        raise ValueError(f"{path} holds {frames} pages; pydeblur reads one image per file. Split the pages "
                         "into separate files first.")
    return orientation if orientation in _ORIENTATIONS else 1


def _read_header(path: Path, data: bytes):
    """``(width, height, pages, EXIF orientation, ICC profile or None)`` from a file's header.

    TIFFs are read with tifffile, PNG and JPEG with Pillow; nothing is decoded. Width and
    height are None for an image past Pillow's own bomb limit (179 megapixels).
    """
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        try:
            with tifffile.TiffFile(_io.BytesIO(data)) as tiff:
                page = tiff.pages[0]
                orientation, icc = page.tags.get("Orientation"), page.tags.get("InterColorProfile")
                return (page.imagewidth, page.imagelength, len(tiff.pages),
                        int(orientation.value) if orientation is not None else 1,
                        bytes(icc.value) if icc is not None else None)
        except (tifffile.TiffFileError, ValueError, IndexError, OSError) as error:
            raise ValueError(f"{path}: not a readable TIFF file ({error}).") from None
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # pydeblur applies its own limit
        try:
            with Image.open(_io.BytesIO(data)) as header:  # reads the header, decodes nothing
                return (*header.size, getattr(header, "n_frames", 1),
                        header.getexif().get(_EXIF_ORIENTATION, 1), header.info.get("icc_profile") or None)
        except Image.DecompressionBombError:
            return None, None, 1, 1, None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise ValueError(f"{path}: not a readable image file ({error}).") from None


def _decode(path: Path, max_pixels=None) -> np.ndarray:
    """Decode a file to the array OpenCV stores (BGR order, integer or float), upright."""

    return _decode_data(path, _read_bytes(path), max_pixels)


def _read_bytes(path: Path) -> bytes:
    _suffix(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such image file.") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path} is a folder, not an image file.") from None


def _bit_depth(raw: np.ndarray) -> int:
    """8, 16 or 32 (float) for an array as OpenCV decodes it."""
    return {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(raw.dtype, 8 * raw.dtype.itemsize)


def _decode_data(path: Path, data: bytes, max_pixels=None) -> np.ndarray:
    """Decode the bytes of an image file named ``path`` (its suffix gives the format), upright."""
    import cv2

    suffix = _suffix(path)
    if not data:
        raise ValueError(f"{path} is empty (0 bytes), not an image.")
    if suffix in _JPEG_SUFFIXES:
        scan = data.find(b"\xff\xda")  # start of scan; the end-of-image marker must follow it
        if scan < 0 or data.find(b"\xff\xd9", scan) < 0:  # bytes after the marker (motion photos) are fine
            raise ValueError(f"{path}: truncated or corrupt JPEG file (no end-of-image marker).")
    orientation = _header(path, data, max_pixels)
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        reason = str(error).strip().splitlines()[-1]
        raise ValueError(f"{path}: OpenCV cannot decode this {suffix[1:].upper()} file ({reason}); "
                         "save it as 8/16-bit or float32.") from None
    if decoded is None or decoded.size == 0:
        raise ValueError(f"{path}: unreadable, truncated or corrupt {suffix[1:].upper()} file.")
    if suffix in _JPEG_SUFFIXES and decoded.dtype == np.uint8 and decoded.shape[0] > 16 \
            and bool(np.all(decoded[-16:] == 128)):
        warnings.warn(f"{path}: the last 16 rows are flat grey (128), as libjpeg fills the missing part of a "
                      "truncated file; the file is probably cut short.", UserWarning, stacklevel=3)
    return _ORIENTATIONS[orientation](decoded)


def image_info(path, *, max_pixels=MAX_PIXELS) -> dict:
    """Shape, channel count and bit depth of an image file, without converting it.

    Returns
    -------
    dict
        ``{"shape": (H, W[, C]), "channels": C, "bit_depth": 8 | 16 | 32, "dtype": str}``.
    """
    raw = _decode(Path(path), max_pixels)
    channels = 1 if raw.ndim == 2 else raw.shape[2]
    return {"shape": raw.shape, "channels": channels, "bit_depth": _bit_depth(raw), "dtype": str(raw.dtype)}


def imread(path, *, alpha: str = "keep", dtype=np.float32, max_pixels=MAX_PIXELS) -> np.ndarray:
    """Read an image file as a float array in [0, 1], channels last, RGB order.

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG or TIFF file, 8 or 16 bit integer or float.
    alpha : {'keep', 'drop'}
        What to do with an alpha channel: keep it as a fourth (or second) channel or
        drop it. Images without alpha are unaffected.
    dtype : {numpy.float32, numpy.float64}
        Output dtype.
    max_pixels : int or None
        Largest image accepted, checked from the file's header before decoding
        (default 100 megapixels); None for no limit.

    Notes
    -----
    The image comes back upright: an EXIF orientation tag (phone portraits) is applied,
    as viewers apply it. Multi-page TIFFs are refused rather than read as page one.

    Returns
    -------
    numpy.ndarray
        (H, W) for grey files, (H, W, 3) for RGB, (H, W, 4) or (H, W, 2) with kept
        alpha. Integer files are divided by 255 or 65535; float files are returned
        as stored.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Unsupported format, or a truncated / corrupt file.
    """

    check_choice(alpha, ("keep", "drop"), name="alpha")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}.")
    path = Path(path)
    return _to_float(np.ascontiguousarray(_decode(path, max_pixels)), path, alpha, dtype)


def decode_image(data: bytes, name: str, *, alpha: str = "keep", dtype=np.float32,
                 max_pixels=MAX_PIXELS) -> tuple[np.ndarray, int]:
    """Decode an image file held in memory (an upload), as :func:`imread` reads a file.

    ``name`` is only a label whose suffix gives the format (``'photo.png'``); nothing is
    read from or written to the file system. Returns ``(image, bit_depth)``, bit depth 8,
    16 or 32 (float).
    """
    check_choice(alpha, ("keep", "drop"), name="alpha")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}.")
    path = Path(Path(name).name)
    raw = np.ascontiguousarray(_decode_data(path, data, max_pixels))
    return _to_float(raw, path, alpha, dtype), _bit_depth(raw)


def read_image(path, *, dtype=np.float32, max_pixels=MAX_PIXELS) -> tuple[np.ndarray, int, bytes | None]:
    """``(image, bit_depth, icc_profile)`` of a file from one read and one decode: what
    :func:`imread` (alpha kept), :func:`image_info` and :func:`read_icc_profile` give apart."""
    path = Path(path)
    data = _read_bytes(path)
    raw = np.ascontiguousarray(_decode_data(path, data, max_pixels))
    return _to_float(raw, path, "keep", dtype), _bit_depth(raw), _read_header(path, data)[4]


def encode_image(image, suffix: str, *, bit_depth: int = 8, quality=None) -> bytes:
    """The bytes of ``image`` as an image file of format ``suffix`` ('.png', '.jpg', '.tif'),
    converted as :func:`imwrite` converts; nothing touches the file system."""
    image = check_image(image)
    suffix = _suffix(Path("image" + suffix))
    check_choice(bit_depth, (8, 16, 32), name="bit_depth")
    return _encode(image, suffix, bit_depth, 95 if quality is None else quality)


def _to_float(raw: np.ndarray, path: Path, alpha: str, dtype) -> np.ndarray:
    import cv2

    if raw.ndim == 3:
        if raw.shape[2] == 3:
            raw = cv2.cvtColor(raw, cv2.COLOR_BGR2RGB)
        elif raw.shape[2] == 4:
            raw = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA)
        if alpha == "drop" and raw.shape[2] in (2, 4):
            raw = raw[:, :, :-1]
        if raw.shape[2] == 1:
            raw = raw[:, :, 0]
    if raw.dtype == np.uint8:
        return (raw / 255.0).astype(dtype)
    if raw.dtype == np.uint16:
        return (raw / 65535.0).astype(dtype)
    if np.issubdtype(raw.dtype, np.floating):
        return raw.astype(dtype)
    raise ValueError(f"{path}: unsupported sample type {raw.dtype}; expected 8/16-bit or float.")


def _encode(image: np.ndarray, suffix: str, bit_depth: int, quality: int) -> bytes:
    import cv2

    if suffix in _JPEG_SUFFIXES and image.ndim == 3 and image.shape[2] in (2, 4):
        raise ValueError("JPEG cannot store an alpha channel; write a PNG or TIFF to keep it, or drop it "
                         "explicitly (image[..., :-1]).")

    if bit_depth == 32:
        if suffix not in (".tif", ".tiff"):
            raise ValueError("bit_depth=32 (float) is only supported for TIFF files.")
        samples = image.astype(np.float32)
    else:
        top = 255 if bit_depth == 8 else 65535
        if bit_depth == 16 and suffix in _JPEG_SUFFIXES:
            raise ValueError("JPEG files are 8 bit; use bit_depth=8 or a PNG / TIFF path.")
        if image.min() < 0 or image.max() > 1:
            raise ValueError(
                f"image values span [{image.min():.3g}, {image.max():.3g}], outside [0, 1]; "
                "an integer file cannot hold them. Clip first (numpy.clip(image, 0, 1)) "
                "or write a float TIFF with bit_depth=32."
            )
        samples = np.rint(image * top).astype(np.uint8 if bit_depth == 8 else np.uint16)
    if samples.ndim == 3:
        if samples.shape[2] == 3:
            samples = cv2.cvtColor(samples, cv2.COLOR_RGB2BGR)
        elif samples.shape[2] == 4:
            samples = cv2.cvtColor(samples, cv2.COLOR_RGBA2BGRA)
        elif samples.shape[2] != 2:
            raise ValueError(
                f"cannot write a {samples.shape[2]}-channel image; image files hold 1-4 channels."
            )
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix in _JPEG_SUFFIXES else []
    ok, buffer = cv2.imencode(suffix, samples, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {samples.shape} {samples.dtype} image as {suffix}.")
    return buffer.tobytes()


def write_bytes_atomic(path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Raises FileExistsError when ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists; pass overwrite=True (--overwrite on the command line) to replace it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def contained_path(root, relative) -> Path:
    """``root / relative``, refused unless it stays inside ``root`` without passing a symlink.

    Commands that write many files into an output folder build every destination with
    this, so a symlink planted inside the folder (``ln -s /elsewhere OUT/seq``) or a
    ``..`` in a name cannot send a write outside it. Parts that do not exist yet are fine.

    Raises
    ------
    ValueError
        ``relative`` is absolute, climbs out with ``..``, or a part of it below ``root``
        is a symlink.
    """
    root = Path(root)
    relative = Path(relative)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{relative} is not a path inside {root}.")
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise ValueError(
                f"{current} is a symlink; pydeblur does not write through links it did not make. "
                "Remove it, or choose another output folder."
            )
    return current


def remove_stale_temporaries(folder, *, names=None) -> list[Path]:
    """Delete the temporary files that an interrupted :func:`write_bytes_atomic` left in ``folder``.

    Only names of the form ``.<name>.<random>.tmp`` are removed, and symlinks are never
    followed. With ``names`` (the files a command is about to write) only their
    temporaries are removed, in ``folder`` itself; without, every such file below it.
    Returns what was removed.
    """
    removed = []
    for dirpath, _dirnames, filenames in os.walk(folder):  # os.walk does not follow symlinks
        for filename in filenames:
            candidate = Path(dirpath) / filename
            match = _TEMPORARY.fullmatch(filename)
            if not match or candidate.is_symlink() or (names is not None and match.group(1) not in names):
                continue
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
        if names is not None:
            break
    return removed


def read_icc_profile(path) -> bytes | None:
    """The ICC colour profile embedded in an image file, or None (read from the header only).

    Raises
    ------
    ValueError
        The file is not a readable image.
    """
    path = Path(path)
    return _read_header(path, path.read_bytes())[4]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _embed_icc(data: bytes, suffix: str, icc: bytes) -> bytes:
    """``data`` (an encoded PNG or JPEG) with the ICC profile ``icc`` embedded."""
    import zlib

    if suffix == ".png":
        chunk = _png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(icc))
        end_of_ihdr = 8 + 25  # signature, then the 13-byte IHDR chunk with its length, type and CRC
        return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]
    segments, size = [], 65519  # an APP2 segment holds at most 65533 bytes after its header
    parts = [icc[i : i + size] for i in range(0, len(icc), size)]
    for index, part in enumerate(parts, start=1):
        body = b"ICC_PROFILE\0" + bytes([index, len(parts)]) + part
        segments.append(b"\xff\xe2" + (len(body) + 2).to_bytes(2, "big") + body)
    return data[:2] + b"".join(segments) + data[2:]  # right after the start-of-image marker


def imwrite(path, image, *, bit_depth: int = 8, quality=None, overwrite: bool = False,
            icc_profile: bytes | None = None) -> Path:
    """Write a float image in [0, 1] to a PNG, JPEG or TIFF file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the suffix picks the format. Missing folders are created.
    image : numpy.ndarray
        Float image, (H, W) or (H, W, C) with C in 1..4, RGB(A) order.
    bit_depth : {8, 16, 32}
        Sample size in the file: 8 or 16 bit integers (PNG, TIFF; JPEG is 8 only), or
        32-bit float (TIFF only). Integer depths need values in [0, 1].
    quality : int, optional
        JPEG quality, 1-100 (default 95). Only for JPEG paths.
    overwrite : bool
        Replace an existing file. Without it an existing file raises FileExistsError.
    icc_profile : bytes, optional
        An ICC colour profile to embed (PNG and JPEG), e.g. the input's, from
        :func:`read_icc_profile`, so that colour-managed viewers show the colours as
        the input's. Pixels are written upright (EXIF orientation applied on read), so
        no orientation tag is needed.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    suffix = _suffix(path)
    image = check_image(image)
    if bit_depth not in (8, 16, 32):
        raise ValueError(f"bit_depth must be 8, 16 or 32, got {bit_depth!r}.")
    if quality is None:
        quality = 95
    elif suffix not in _JPEG_SUFFIXES:
        raise ValueError(f"quality applies to JPEG files only; {path.name} is {suffix[1:].upper()}.")
    elif isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an integer in 1..100, got {quality!r}.")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists; pass overwrite=True (--overwrite on the command line) to replace it."
        )
    data = _encode(image, suffix, bit_depth, quality)
    if icc_profile is not None:
        if suffix not in (".png", *_JPEG_SUFFIXES):
            raise ValueError(f"an ICC profile can be embedded in PNG and JPEG files, not {suffix}; write "
                             "a PNG or JPEG, or pass icc_profile=None.")
        data = _embed_icc(data, suffix, bytes(icc_profile))
    return write_bytes_atomic(path, data, overwrite=overwrite)


def list_images(folder) -> list[Path]:
    """Image files (by suffix) below ``folder``, recursively, in sorted order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
