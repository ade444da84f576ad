"""Restoring batches of files: one file at a time here, or one task per file on a Dask cluster.

:func:`restore_one` is what ``pydeblur restore`` does to each file (read it upright and
size-checked, restore it, write it atomically in its own bit depth with its ICC profile,
optionally a figure) and never raises for a bad file: it returns a result entry.
:func:`restore_files` runs it over a batch, serially or on a ``dask.distributed`` client
(extra ``[dask]``); the outputs are the same files either way.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .io import MAX_PIXELS

#: Errors that fail one file of a batch (reported in its entry) rather than the batch.
FILE_ERRORS = (ValueError, TypeError, OSError, RuntimeError, MemoryError)


def restore_image_file(deblurrer, source: Path, target: Path, *, overwrite: bool, fit_each: bool,
                       max_pixels=MAX_PIXELS):
    """Restore one file; ``fit_each`` fits on the image first (blind: its own kernel, kept in ``psf_``).

    Returns ``(image, restored)`` as float32 arrays.
    """
    from .io import imwrite, read_image

    image, bit_depth, icc = read_image(source, dtype=np.float32, max_pixels=max_pixels)
    alpha = None
    if image.ndim == 3 and image.shape[2] in (2, 4):  # restore colour, keep alpha as it is
        image, alpha = image[..., :-1], image[..., -1:]
        image = image[..., 0] if image.shape[2] == 1 else image
    restored = deblurrer.fit_restore(image) if fit_each else deblurrer.restore(image)
    restored = np.asarray(restored, dtype=np.float32)
    if bit_depth != 32:
        restored = np.clip(restored, 0, 1)
    if alpha is not None:
        restored = np.concatenate([restored.reshape(*restored.shape[:2], -1), alpha], axis=2)
    suffix = target.suffix.lower()
    icc = icc if suffix in (".png", ".jpg", ".jpeg") else None  # TIFF: not embedded
    imwrite(target, restored, bit_depth=bit_depth if suffix in (".png", ".tif", ".tiff") else 8,
            overwrite=overwrite, icc_profile=icc)
    return image, restored


def restore_one(deblurrer, source, target, *, method: str, figure=None, overwrite: bool = False,
                skip_existing: bool = False, max_pixels=MAX_PIXELS) -> dict:
    """Restore ``source`` into ``target`` (and its ``figure``); a result entry, never an exception
    for a bad file: ``{"input", "output", "status": "ok" | "skipped" | "failed", ...}``."""
    from .methods import METHODS

    source, target = Path(source), Path(target)
    figure = None if figure is None else Path(figure)
    if skip_existing and target.exists() and (figure is None or figure.exists()):
        return {"input": str(source), "output": str(target), "status": "skipped"}
    blind = METHODS[method].kind == "blind"
    start = time.perf_counter()
    try:
        overwrite = overwrite or skip_existing  # a partial pair of a resumed batch is redone
        image, restored = restore_image_file(deblurrer, source, target, overwrite=overwrite, fit_each=blind,
                                             max_pixels=max_pixels)
        entry = {"input": str(source), "output": str(target), "status": "ok",
                 "shape": list(image.shape), "seconds": round(time.perf_counter() - start, 3)}
        if blind:
            entry["psf_confidence"] = round(deblurrer.psf_confidence_, 3)
            entry["final_step"] = deblurrer.final_step_
            note = deblurrer.trust_note()
            if note is not None:
                entry["note"] = note
        if figure is not None:
            from .io import imwrite
            from .viz import montage

            kernel = deblurrer.psf_ if blind else getattr(deblurrer, "psf", None)
            panel = restored[..., : image.shape[2]] if image.ndim == 3 else restored
            imwrite(figure, montage([np.clip(image, 0, 1), np.clip(panel, 0, 1)],
                                    ["input", f"restored ({method})"], psf=kernel),
                    overwrite=overwrite)
            entry["compare"] = str(figure)
    except FILE_ERRORS as error:
        return {"input": str(source), "output": str(target), "status": "failed", "error": str(error)}
    return entry


def check_cluster(cluster: str) -> int | None:
    """Validate a cluster spec; the number of local workers it asks for (None: default or remote)."""
    if cluster == "local":
        return None
    if cluster.startswith("local:"):
        count = cluster.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"cluster {cluster!r}: give local, local:N with N >= 1 workers, or "
                             "tcp://HOST:PORT.")
        return int(count)
    if not cluster.startswith(("tcp://", "tls://")) or len(cluster.split("://", 1)[1]) == 0:
        raise ValueError(f"cluster {cluster!r} is not a cluster: give local, local:N, or a scheduler "
                         "address tcp://HOST:PORT.")
    return None


def connect(cluster: str):
    """A ``dask.distributed.Client`` for ``'local'``, ``'local:N'`` (a LocalCluster of N worker
    processes, one thread each) or a scheduler address ``'tcp://HOST:PORT'``."""
    workers = check_cluster(cluster)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("restoring on a cluster needs Dask: pip install 'pydeblur[dask]' "
                          "(dask[distributed]).") from None
    if cluster.startswith("local"):
        return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0"))  # any free port
    return Client(cluster)


def restore_files(inputs, output_dir, method: str, *, client=None, psf=None, figures=None,
                  overwrite: bool = False, skip_existing: bool = False, max_pixels=MAX_PIXELS,
                  progress: bool = False, **options) -> list[dict]:
    """Restore files into ``output_dir`` (same names) with one method, serially or on Dask.

    Parameters
    ----------
    inputs : sequence of str or os.PathLike
        Image files.
    output_dir : str or os.PathLike
        Folder of the results (created); each keeps its input's name, bit depth and ICC profile.
    method : str
        A name of :data:`pydeblur.methods.METHODS`.
    client : dask.distributed.Client, optional
        Run one task per file on this client's cluster; None restores here, one by one.
        The workers need pydeblur and read the inputs and write the outputs themselves,
        so the paths must mean the same files on them (a shared file system).
    psf : numpy.ndarray or str, optional
        The PSF of a non-blind method (an array or a spec as :func:`~pydeblur.methods.parse_psf`).
    figures : sequence, optional
        A ``--compare`` figure path (or None) per input.
    overwrite, skip_existing, max_pixels
        As for ``pydeblur restore``: replace existing outputs; leave inputs whose output
        exists (resume); refuse larger images from their header.
    progress : bool
        A progress bar on stderr.
    **options
        Parameters of the method's Deblurrer (``weights`` for a network).

    Returns
    -------
    list of dict
        One entry per input, in the inputs' order (see :func:`restore_one`); a file that fails
        is reported in its entry and does not stop the others.
    """
    from .methods import make, parse_psf

    if isinstance(psf, str):
        psf = parse_psf(psf)
    deblurrer = make(method, psf=psf, **options)
    inputs = [Path(p) for p in inputs]
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    figures = [None] * len(inputs) if figures is None else list(figures)
    jobs = [(s, output_dir / s.name, f) for s, f in zip(inputs, figures, strict=True)]
    results: list = [None] * len(jobs)
    for i, entry in run_jobs(deblurrer, jobs, method=method, client=client, progress=progress,
                             overwrite=overwrite, skip_existing=skip_existing, max_pixels=max_pixels):
        results[i] = entry
    return results


def run_jobs(deblurrer, jobs, *, method: str, client=None, progress: bool = False, **settings):
    """Restore ``(source, target, figure)`` jobs; yields ``(job index, entry)`` as each finishes.

    Serially in order without ``client``; with one, the deblurrer is sent once to every
    worker and each job is a task; a task whose worker is lost yields a failed entry.
    ``settings`` are :func:`restore_one`'s keywords.
    """
    from tqdm import tqdm

    with tqdm(total=len(jobs), unit="image", disable=not progress) as bar:
        if client is None:
            for i, (source, target, figure) in enumerate(jobs):
                bar.set_postfix_str(Path(source).name)
                yield i, restore_one(deblurrer, source, target, figure=figure, method=method, **settings)
                bar.update(1)
            return
        from dask.distributed import as_completed

        shared = client.scatter(deblurrer, broadcast=True, hash=False)  # a fresh key: never a released one
        futures = [client.submit(restore_one, shared, s, t, figure=f, method=method, pure=False, **settings)
                   for s, t, f in jobs]
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            i = index[future.key]
            try:
                entry = future.result()
            except Exception as error:  # a worker lost or killed: that file failed, the batch goes on
                entry = {"input": str(jobs[i][0]), "output": str(jobs[i][1]), "status": "failed",
                         "error": f"{type(error).__name__}: {error}"}
            bar.update(1)
            yield i, entry
