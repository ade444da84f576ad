"""Write synthesised pairs to disk in GoPro layout, resumably."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import numpy as np

from .. import psf as psf_module
from ..io import contained_path, imread, imwrite, list_images, remove_stale_temporaries, write_bytes_atomic
from ._pipeline import degrade
from ._sampler import PSFSampler

CONFIG_NAME = "synth_config.json"
MANIFEST_NAME = "manifest.json"


def _check_folders(sharp_dir: Path, out_dir: Path) -> None:
    if not sharp_dir.is_dir():
        raise NotADirectoryError(f"SHARP_DIR {sharp_dir} is not a folder of images.")
    src, dst = sharp_dir.resolve(), out_dir.resolve()
    if dst == src or src in dst.parents or dst in src.parents:
        raise ValueError(
            f"OUT_DIR {out_dir} and SHARP_DIR {sharp_dir} overlap; pydeblur never writes into "
            "the input folder. Choose an output folder outside it."
        )


def _pair_names(sharp_dir: Path, sources: list[Path]) -> dict[Path, tuple[str, str]]:
    """``(seq, stem)`` of every source: one folder level (nested folders joined by '__'), unique.

    ``find_pairs`` reads ``OUT/<seq>/blur/*.png``, so nested folders are flattened into
    one ``<seq>`` name. Two sources with the same stem in one ``<seq>`` (``a.png`` and
    ``a.jpg``) keep their suffix in the name (``a-png``, ``a-jpg``); top-level photos
    go to ``<SHARP_DIR's name>-top`` when a subfolder has SHARP_DIR's name.
    """
    nested = {source: "__".join(source.relative_to(sharp_dir).parent.parts) for source in sources}
    top = sharp_dir.resolve().name
    if top in nested.values():  # a subfolder named like SHARP_DIR itself
        top += "-top"
    keys = {source: (seq or top, source.stem) for source, seq in nested.items()}
    counts: dict = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    names = {source: (seq, f"{stem}-{source.suffix[1:].lower()}" if counts[(seq, stem)] > 1 else stem)
             for source, (seq, stem) in keys.items()}
    seen: dict = {}
    for source, key in names.items():
        if key in seen:
            raise ValueError(f"{seen[key]} and {source} would both be written as {key[0]}/*/{key[1]}_<k>; "
                             "rename one of them.")
        seen[key] = source
    return names


def _pair_seed(seed: int, relative: str, k: int) -> np.random.SeedSequence:
    """Seed of one pair: depends on the run seed, the file's path and the copy index only."""
    return np.random.SeedSequence([seed, zlib.crc32(relative.encode()), k])


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the manifest")


def synthesize_folder(sharp_dir, out_dir, *, per_image: int = 1, seed: int = 0, sampler=None,
                      noise_sigma: float = 0.01, poisson_peak=None, gamma=None,
                      exposure: float = 1.0, jpeg_quality=None, boundary: str = "valid",
                      bit_depth: int = 8, progress: bool = True) -> list[dict]:
    """Synthesise blurry/sharp pairs from a folder of sharp photos, in GoPro layout.

    For every image ``SHARP_DIR/<sub>/<name>.<ext>`` and copy ``k`` it writes
    ``OUT_DIR/<seq>/blur/<name>_<k>.png``, ``.../sharp/<name>_<k>.png`` (cropped to
    match a 'valid' blur), the kernel as ``.../kernel/<name>_<k>.npy`` and ``.png``,
    and ``.../meta/<name>_<k>.json``; ``<seq>`` is ``<sub>`` with nested folders joined
    by ``__`` (SHARP_DIR's own name for top-level images), and ``<name>`` gains its
    suffix (``a-png``) when two photos of one folder share a stem. ``OUT_DIR/manifest.json``
    lists every pair at the end. Every write stays inside OUT_DIR: a symlink inside it is
    refused, not followed. An OUT_DIR that holds files but no ``synth_config.json`` is
    refused, so nothing that synth did not make is overwritten.

    Each pair's randomness depends only on ``seed``, the file's relative path and
    ``k``, so a run is reproducible and can be resumed: pairs whose meta file exists
    are skipped. A folder made with other settings is refused.

    Parameters
    ----------
    sharp_dir, out_dir : str or os.PathLike
        Input photos and output folder; they may not overlap.
    per_image : int
        Pairs made from each photo.
    seed : int
        Seed of the whole run.
    sampler : PSFSampler, optional
        PSF source (default ``PSFSampler()``).
    noise_sigma, poisson_peak, gamma, exposure, jpeg_quality, boundary
        As in :func:`pydeblur.synth.degrade`.
    bit_depth : {8, 16}
        Bit depth of the written PNGs.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    list of dict
        The manifest entries (paths relative to ``out_dir``).
    """
    from tqdm.auto import tqdm

    sharp_dir, out_dir = Path(sharp_dir), Path(out_dir)
    _check_folders(sharp_dir, out_dir)
    if isinstance(per_image, bool) or not isinstance(per_image, int) or per_image < 1:
        raise ValueError(f"per_image must be a positive integer, got {per_image!r}.")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16 for PNG pairs, got {bit_depth!r}.")
    sampler = sampler or PSFSampler()
    sources = list_images(sharp_dir)
    if not sources:
        raise ValueError(f"SHARP_DIR {sharp_dir} holds no PNG, JPEG or TIFF images.")
    settings = {
        "seed": seed, "per_image": per_image, "noise_sigma": noise_sigma,
        "poisson_peak": poisson_peak, "gamma": gamma, "exposure": exposure,
        "jpeg_quality": jpeg_quality, "boundary": boundary, "bit_depth": bit_depth,
        "sampler": {"families": list(sampler.families), "max_size": sampler.max_size,
                    "weights": None if sampler.weights is None else list(sampler.weights)},
    }
    config_path = contained_path(out_dir, CONFIG_NAME)
    if not config_path.exists() and out_dir.is_dir() and any(out_dir.iterdir()):
        raise FileExistsError(
            f"OUT_DIR {out_dir} is not empty and was not made by pydeblur synth (no {CONFIG_NAME}); "
            "its files could be overwritten. Choose a new or empty folder."
        )
    if config_path.exists():
        previous = json.loads(config_path.read_text())
        if previous != json.loads(json.dumps(settings)):
            raise ValueError(
                f"{out_dir} holds pairs made with other settings ({config_path}); "
                "use a new OUT_DIR or the same settings to resume."
            )
        remove_stale_temporaries(out_dir)
    else:
        write_bytes_atomic(config_path, json.dumps(settings, indent=2).encode())

    manifest = []
    names = _pair_names(sharp_dir, sources)
    jobs = [(source, k) for source in sources for k in range(per_image)]
    for source, k in tqdm(jobs, desc="synth", unit="pair", disable=not progress):
        relative = source.relative_to(sharp_dir)
        seq, stem = names[source]
        name = f"{stem}_{k}"
        meta_path = contained_path(out_dir, f"{seq}/meta/{name}.json")
        if meta_path.exists():
            manifest.append(json.loads(meta_path.read_text()))
            continue
        sharp = imread(source, alpha="drop")
        rng = np.random.default_rng(_pair_seed(seed, relative.as_posix(), k))
        blurry, target, meta = degrade(
            sharp, sampler=sampler, boundary=boundary, noise_sigma=noise_sigma,
            poisson_peak=poisson_peak, gamma=gamma, exposure=exposure,
            jpeg_quality=jpeg_quality, rng=rng,
        )
        kernel = meta.pop("psf")
        files = {kind: f"{seq}/{kind}/{name}.png" for kind in ("blur", "sharp")}
        files["kernel"] = f"{seq}/kernel/{name}.npy"
        files["kernel_image"] = f"{seq}/kernel/{name}.png"
        # Overwrite is safe here: a pair without its meta file is an unfinished pair.
        imwrite(contained_path(out_dir, files["blur"]), blurry, bit_depth=bit_depth, overwrite=True)
        imwrite(contained_path(out_dir, files["sharp"]), target, bit_depth=bit_depth, overwrite=True)
        buffer = io.BytesIO()
        np.save(buffer, kernel)
        write_bytes_atomic(contained_path(out_dir, files["kernel"]), buffer.getvalue(), overwrite=True)
        imwrite(contained_path(out_dir, files["kernel_image"]), psf_module.to_image(kernel, scale=4),
                overwrite=True)
        entry = {"source": relative.as_posix(), "copy": k, "files": files, **meta}
        write_bytes_atomic(meta_path, json.dumps(entry, default=_to_json, indent=1).encode(),
                           overwrite=True)
        manifest.append(entry)
    write_bytes_atomic(contained_path(out_dir, MANIFEST_NAME),
                       json.dumps(manifest, default=_to_json, indent=1).encode(), overwrite=True)
    return manifest
