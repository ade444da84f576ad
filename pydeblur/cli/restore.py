"""``pydeblur restore``: deblur files or folders with any method, safely."""

from __future__ import annotations

import json
from pathlib import Path

from ..io import IMAGE_SUFFIXES, MAX_PIXELS
from ._exit import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, UsageError

NETWORK_OPTIONS = ("weights", "device", "precision", "tile", "compile")
BLIND_OPTIONS = ("psf_size", "prior", "fallback", "final_step")


def collect_inputs(paths) -> list[Path]:
    """Image files named directly or found in folders (not recursive), in order."""
    from ..io import list_images

    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = list_images(path)
            if not found:
                raise ValueError(f"{path} holds no PNG, JPEG or TIFF images.")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"input {path} does not exist.")
    return files


def output_paths(inputs: list[Path], output: Path, *, overwrite: bool,
                 existing_ok: bool = False) -> list[Path]:
    """Where each input's result goes: ``output`` itself for one input and an image suffix,
    else ``output/<input name>``. Inputs are never targets unless ``overwrite``; existing
    outputs are refused unless ``overwrite`` or ``existing_ok`` (``--skip-existing``)."""
    if output.suffix and output.suffix.lower() not in IMAGE_SUFFIXES and not output.is_dir():
        raise UsageError(f"-o {output}: unsupported image format {output.suffix!r}; give a file ending in "
                         f"{', '.join(IMAGE_SUFFIXES)} (one input) or a folder.")
    if len(inputs) == 1 and output.suffix.lower() in IMAGE_SUFFIXES and not output.is_dir():
        targets = [output]
    else:
        if output.suffix.lower() in IMAGE_SUFFIXES:
            raise ValueError(f"{len(inputs)} inputs cannot all go to the single file {output}; "
                             "give a folder as -o.")
        targets = [output / path.name for path in inputs]
        names = [t.name for t in targets]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"several inputs are named {', '.join(clash)}; "
                             "restore them into separate folders.")
    resolved_inputs = {p.resolve() for p in inputs}
    for target in targets:
        if target.resolve() in resolved_inputs and not overwrite:
            raise ValueError(f"{target} is an input: refusing to overwrite it (pass --overwrite to allow, "
                             "or choose another -o).")
        if target.exists() and not (overwrite or existing_ok):
            raise FileExistsError(f"{target} already exists; pass --overwrite to replace it, or "
                                  "--skip-existing to leave it.")
    return targets


def _check_options(args, kind: str) -> None:
    """Refuse options that the chosen kind of method would not use."""
    misplaced = [n for n in NETWORK_OPTIONS if kind != "network" and getattr(args, n) is not None]
    misplaced += [n for n in BLIND_OPTIONS if kind != "blind" and getattr(args, n) is not None]
    if misplaced:
        flags = ", ".join("--" + n.replace("_", "-") for n in misplaced)
        raise UsageError(f"{flags} do(es) not apply to --method {args.method} ({kind}).")


def build_deblurrer(args):
    """The Deblurrer that ``args`` describe (method, PSF, network or blind options)."""
    from ..methods import METHODS, parse_psf

    kind = METHODS[args.method].kind
    _check_options(args, kind)
    try:
        psf = parse_psf(args.psf) if args.psf else None
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(f"--psf: {error}") from None
    try:
        return _make(args, kind, psf)
    except FileNotFoundError:
        raise
    except ValueError as error:  # a method that needs (or refuses) a PSF, a bad option value
        raise UsageError(str(error)) from None


def _make(args, kind, psf):
    from ..methods import make

    if kind == "network":
        params = {name: getattr(args, name) for name in ("device", "precision", "compile")
                  if getattr(args, name)}
        if args.tile is not None:
            params["tile"] = args.tile or None
        return make(args.method, psf=psf, weights=args.weights, **params)
    if kind == "blind":
        params = {name: getattr(args, name) for name in BLIND_OPTIONS if getattr(args, name) is not None}
        return make(args.method, psf=psf, **params)
    return make(args.method, psf=psf)  # unclipped: float TIFFs keep their range, 8/16-bit files clip


def _compare_path(figure: Path, source: Path, count: int) -> Path:
    return figure if count == 1 else figure.with_name(f"{figure.stem}_{source.stem}{figure.suffix}")


def compare_paths(inputs: list[Path], targets: list[Path], figure: Path | None, *,
                  overwrite: bool, existing_ok: bool = False) -> list[Path | None]:
    """The ``--compare`` figure of every input, checked before anything runs.

    A figure may not be an input or another output of the batch (not even with
    ``--overwrite``: that would restore or destroy the batch's own files), nor an
    existing file without ``--overwrite``.
    """
    if figure is None:
        return [None] * len(inputs)
    if figure.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"--compare {figure}: a figure is an image file ({', '.join(IMAGE_SUFFIXES)}).")
    figures = [_compare_path(figure, source, len(inputs)) for source in inputs]
    taken = {p.resolve(): "an input" for p in inputs} | {p.resolve(): "an output" for p in targets}
    seen: dict = {}
    for source, path in zip(inputs, figures, strict=True):
        resolved = path.resolve()
        if resolved in taken:
            raise ValueError(f"--compare would write {path}, which is {taken[resolved]} of this batch; "
                             "choose a figure path outside the inputs and outputs.")
        if resolved in seen:
            raise ValueError(f"--compare would write {path} for both {seen[resolved]} and {source}; "
                             "give inputs distinct names.")
        seen[resolved] = source
        if path.exists() and not (overwrite or existing_ok):
            raise FileExistsError(f"{path} already exists; pass --overwrite to replace it.")
    return figures


def check_options(args) -> None:
    """Refuse bad option values before any file is read, naming the option."""
    if args.tile is not None and args.tile < 0:
        raise UsageError(f"--tile must be 0 (no tiling) or a positive number of pixels, got {args.tile}.")
    if args.tile is not None and 0 < args.tile < 64:
        raise UsageError(f"--tile {args.tile} is smaller than two overlaps (2 x 32 px); use at least 64, "
                         "or 0 for no tiling.")
    if args.max_pixels < 1:
        raise UsageError(f"--max-pixels must be a positive pixel count, got {args.max_pixels}.")
    if args.psf_size is not None and (args.psf_size < 3 or args.psf_size % 2 == 0):
        raise UsageError(f"--psf-size must be an odd number >= 3 (a centred kernel), got {args.psf_size}.")
    if args.cluster is not None:
        from ..parallel import check_cluster

        try:
            check_cluster(args.cluster)
        except ValueError as error:
            raise UsageError(f"--cluster: {error}") from None
    if args.device is not None:
        kind = args.device.split(":")[0]
        if kind not in ("cpu", "cuda") or (":" in args.device and not args.device.split(":", 1)[1].isdigit()):
            raise UsageError(f"--device {args.device!r} is not a device; use cpu, cuda or cuda:N.")


def run(args) -> int:
    """Run ``pydeblur restore``; returns the exit code."""
    from ..io import remove_stale_temporaries
    from ..parallel import connect, run_jobs

    check_options(args)
    deblurrer = build_deblurrer(args)  # the method's options and the PSF, before any file is touched
    inputs = collect_inputs(args.inputs)
    targets = output_paths(inputs, args.output, overwrite=args.overwrite, existing_ok=args.skip_existing)
    figures = compare_paths(inputs, targets, args.compare, overwrite=args.overwrite,
                            existing_ok=args.skip_existing)
    for folder in {t.parent for t in targets if t.parent.is_dir()}:  # what a killed run left behind
        remove_stale_temporaries(folder, names={t.name for t in targets} | {f.name for f in figures if f})
    jobs = list(zip(inputs, targets, figures, strict=True))
    client = connect(args.cluster) if args.cluster else None
    results: dict = {}
    try:
        for i, entry in run_jobs(deblurrer, jobs, method=args.method, client=client,
                                 progress=not (args.no_progress or args.json), overwrite=args.overwrite,
                                 skip_existing=args.skip_existing, max_pixels=args.max_pixels):
            results[i] = entry
    except KeyboardInterrupt:
        done = [results[i] for i in sorted(results)]
        done += [{"input": str(s), "output": str(t), "status": "interrupted"}
                 for i, (s, t, _) in enumerate(jobs) if i not in results]
        _summary(args, done)
        return EXIT_INTERRUPTED
    finally:
        if client is not None:
            client.close()
    return _summary(args, [results[i] for i in range(len(jobs))])


def _summary(args, results: list[dict]) -> int:
    """Print the table (or JSON) of a batch and return its exit code."""
    failed = sum(r["status"] == "failed" for r in results)
    interrupted = sum(r["status"] == "interrupted" for r in results)
    if args.json:
        print(json.dumps({"method": args.method, "results": results, "failed": failed,
                          "interrupted": interrupted}, indent=2))
    else:
        blind = any("psf_confidence" in r for r in results)
        print(f"{'input':<32}{'status':>12}{'seconds':>9}" + (f"{'confidence':>12}" if blind else "")
              + "  output")
        for r in results:
            detail = r.get("error", r["output"]) + (f"  ({r['note']})" if "note" in r else "")
            confidence = f"{r['psf_confidence']:>12.2f}" if "psf_confidence" in r else " " * 12
            print(f"{Path(r['input']).name[:31]:<32}{r['status']:>12}{r.get('seconds', float('nan')):>9.2f}"
                  + (confidence if blind else "") + f"  {detail}")
        restored = sum(r["status"] == "ok" for r in results)
        print(f"{restored} of {len(results)} restored with {args.method}"
              + (f"; interrupted, {interrupted} not done: rerun with --skip-existing to finish"
                 if interrupted else ""))
    if interrupted:
        return EXIT_INTERRUPTED
    if failed == 0:
        return EXIT_OK
    return EXIT_FAILED if failed == len(results) else EXIT_PARTIAL


def add_parser(commands) -> None:
    """Register ``restore`` on the command's subparsers."""
    from ..methods import FINAL_STEPS, METHODS, PRECISIONS, PRIORS

    p = commands.add_parser(
        "restore", help="deblur image files or folders",
        description="Deblur images with any method. Non-blind methods need --psf; blind methods and "
                    "networks estimate the blur. Outputs keep the input's bit depth; existing files and "
                    "inputs are never overwritten without --overwrite. Exit codes: 0 all restored, "
                    "1 failed, 2 bad command line, 3 some files failed.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="image files or folders")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file (one input) or folder")
    p.add_argument("--method", required=True, choices=list(METHODS))
    p.add_argument("--psf", help="non-blind: PSF file (.npy / image) or spec, "
                                 "e.g. 'motion:length=15,angle=30'")
    p.add_argument("--psf-size", type=int,
                   help="blind: odd side of the kernel to estimate (default: auto, from the image)")
    p.add_argument("--prior", choices=PRIORS, help="blind: image prior")
    p.add_argument("--fallback", choices=("input", "restore"),
                   help="blind: what an untrusted kernel estimate gives (default input: the photo is "
                        "written unchanged and the table says why; restore: deconvolve anyway)")
    p.add_argument("--final-step", choices=FINAL_STEPS,
                   help="blind: the final non-blind step (default auto: plug_and_play, the learned prior, "
                        "when torch is installed, else hyper_laplacian; plug_and_play is ~0.3 dB better, "
                        "slower; fusion: the mean of the two)")
    p.add_argument("--weights", help="networks: shipped name or .safetensors file (default <method>-small)")
    p.add_argument("--tile", type=int, help="networks: largest tile side, px (0: no tiling; default 1024)")
    p.add_argument("--device", help="networks: cpu, cuda, cuda:1 ...")
    p.add_argument("--precision", choices=PRECISIONS, help="networks: inference precision")
    p.add_argument("--compile", action="store_const", const=True,
                   help="networks: torch.compile the network (a minute once, then faster: for many images)")
    p.add_argument("--compare", type=Path, metavar="FIG.png", help="also write a side-by-side figure")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (even inputs)")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                   help=f"refuse images larger than this, read from the header (default {MAX_PIXELS:,})")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave inputs whose output exists alone (resume an interrupted batch)")
    p.add_argument("--json", action="store_true", help="print the results as JSON (no progress bar)")
    p.add_argument("--cluster", metavar="local[:N] | tcp://HOST:PORT",
                   help="one task per file on a Dask cluster: a local one of N worker processes, or a "
                        "scheduler's address (needs pydeblur[dask]; workers must see the same paths)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
