"""``pydeblur restore``: deblur files or folders with any method, safely."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..io import IMAGE_SUFFIXES
from ._exit import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL

NETWORK_OPTIONS = ("weights", "device", "precision", "tile", "compile")
BLIND_OPTIONS = ("psf_size", "prior")


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


def output_paths(inputs: list[Path], output: Path, *, overwrite: bool) -> list[Path]:
    """Where each input's result goes: ``output`` itself for one input and an image suffix,
    else ``output/<input name>``. Inputs are never targets unless ``overwrite``."""
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
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} already exists; pass --overwrite to replace it.")
    return targets


def _check_options(args, kind: str) -> None:
    """Refuse options that the chosen kind of method would not use."""
    misplaced = [n for n in NETWORK_OPTIONS if kind != "network" and getattr(args, n) is not None]
    misplaced += [n for n in BLIND_OPTIONS if kind != "blind" and getattr(args, n) is not None]
    if misplaced:
        flags = ", ".join("--" + n.replace("_", "-") for n in misplaced)
        raise ValueError(f"{flags} do(es) not apply to --method {args.method} ({kind}).")


def build_deblurrer(args):
    """The Deblurrer that ``args`` describe (method, PSF, network or blind options)."""
    from ..methods import METHODS, make, parse_psf

    kind = METHODS[args.method].kind
    _check_options(args, kind)
    psf = parse_psf(args.psf) if args.psf else None
    if kind == "network":
        params = {name: getattr(args, name) for name in ("device", "precision", "compile")
                  if getattr(args, name)}
        if args.tile is not None:
            params["tile"] = args.tile or None
        return make(args.method, psf=psf, weights=args.weights, **params)
    if kind == "blind":
        params = {name: getattr(args, name) for name in BLIND_OPTIONS if getattr(args, name) is not None}
        return make(args.method, psf=psf, clip=True, **params)
    return make(args.method, psf=psf, clip=True)


def _restore_file(deblurrer, source: Path, target: Path, *, overwrite: bool, fit_each: bool):
    """Restore one file; ``fit_each`` fits on the image first (blind: its own kernel, kept in ``psf_``)."""
    from ..io import image_info, imread, imwrite

    bit_depth = image_info(source)["bit_depth"]
    image = imread(source, dtype=np.float32)
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
    imwrite(target, restored, bit_depth=bit_depth if target.suffix.lower() in (".png", ".tif", ".tiff")
            else 8, overwrite=overwrite)
    return image, restored


def _compare_path(figure: Path, source: Path, count: int) -> Path:
    return figure if count == 1 else figure.with_name(f"{figure.stem}_{source.stem}{figure.suffix}")


def run(args) -> int:
    """Run ``pydeblur restore``; returns the exit code."""
    from tqdm import tqdm

    from ..methods import METHODS

    inputs = collect_inputs(args.inputs)
    targets = output_paths(inputs, args.output, overwrite=args.overwrite)
    deblurrer = build_deblurrer(args)
    blind = METHODS[args.method].kind == "blind"
    results = []
    bar = tqdm(list(zip(inputs, targets, strict=True)), unit="image", disable=args.no_progress or args.json)
    for source, target in bar:
        bar.set_postfix_str(source.name)
        start = time.perf_counter()
        try:
            image, restored = _restore_file(deblurrer, source, target, overwrite=args.overwrite,
                                            fit_each=blind)
            entry = {"input": str(source), "output": str(target), "status": "ok",
                     "shape": list(image.shape), "seconds": round(time.perf_counter() - start, 3)}
            if args.compare is not None:
                from ..io import imwrite
                from ..viz import montage

                kernel = deblurrer.psf_ if blind else getattr(deblurrer, "psf", None)
                figure = _compare_path(args.compare, source, len(inputs))
                panel = restored[..., : image.shape[2]] if image.ndim == 3 else restored
                imwrite(figure, montage([image, np.clip(panel, 0, 1)],
                                        ["input", f"restored ({args.method})"], psf=kernel),
                        overwrite=args.overwrite)
                entry["compare"] = str(figure)
        except (ValueError, TypeError, OSError, RuntimeError) as error:
            entry = {"input": str(source), "output": str(target), "status": "failed", "error": str(error)}
        results.append(entry)
    failed = sum(r["status"] != "ok" for r in results)
    if args.json:
        print(json.dumps({"method": args.method, "results": results, "failed": failed}, indent=2))
    else:
        print(f"{'input':<32}{'status':>8}{'seconds':>9}  output")
        for r in results:
            print(f"{Path(r['input']).name[:31]:<32}{r['status']:>8}{r.get('seconds', float('nan')):>9.2f}  "
                  f"{r['output'] if r['status'] == 'ok' else r['error']}")
        print(f"{len(results) - failed} of {len(results)} restored with {args.method}")
    if failed == 0:
        return EXIT_OK
    return EXIT_FAILED if failed == len(results) else EXIT_PARTIAL


def add_parser(commands) -> None:
    """Register ``restore`` on the command's subparsers."""
    from ..methods import METHODS, PRECISIONS, PRIORS

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
    p.add_argument("--psf-size", type=int, help="blind: odd side of the kernel to estimate (default 31)")
    p.add_argument("--prior", choices=PRIORS, help="blind: image prior")
    p.add_argument("--weights", help="networks: shipped name or .safetensors file (default <method>-small)")
    p.add_argument("--tile", type=int, help="networks: largest tile side, px (0: no tiling; default 1024)")
    p.add_argument("--device", help="networks: cpu, cuda, cuda:1 ...")
    p.add_argument("--precision", choices=PRECISIONS, help="networks: inference precision")
    p.add_argument("--compile", action="store_const", const=True,
                   help="networks: torch.compile the network (a minute once, then faster: for many images)")
    p.add_argument("--compare", type=Path, metavar="FIG.png", help="also write a side-by-side figure")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (even inputs)")
    p.add_argument("--json", action="store_true", help="print the results as JSON (no progress bar)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
