"""``pydeblur detect``: which photos are blurred, how much, and where."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._exit import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, UsageError, fraction, positive_int

FIGURE_HEIGHT = 256


def add_parser(commands) -> None:
    """Register ``detect`` on the command's subparsers."""
    from ..methods import PRECISIONS

    parser = commands.add_parser(
        "detect", help="find blurred photos and blurred regions",
        description="Score every photo for blur (0 sharp .. 1 blurred: the blur of its sharpest tenth), "
                    "say the kind (motion, defocus, none), and optionally save per-pixel blur maps and a "
                    "figure. Prints a table sorted from most to least blurred.")
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders of images")
    parser.add_argument("--threshold", type=fraction, default=0.25,
                        help="score from which a photo is 'blurred' (default 0.25, fitted on synthetic blur)")
    parser.add_argument("--map-dir", type=Path, help="write each photo's blur map here (8-bit PNG, white = "
                                                      "blurred)")
    parser.add_argument("--compare", type=Path, help="write a figure (PNG/JPEG) of the photos and their maps")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--working-size", type=positive_int, default=2048,
                        help="photos with a longer side are judged reduced to it (default 2048)")
    parser.add_argument("--weights", default="blur-map", help="shipped name or weights file")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing maps or figure")


def _map_targets(files, map_dir, overwrite) -> list[Path]:
    targets = [map_dir / f"{path.stem}.blur.png" for path in files]
    names = [t.name for t in targets]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise UsageError(f"several inputs would write the map {', '.join(clash)}; detect them into separate "
                         "--map-dir folders.")
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} already exists; pass --overwrite to replace maps.")
    return targets


def _figure(rows) -> np.ndarray:
    """Photo and map side by side, one row per photo (at most 8, most blurred first)."""
    import cv2

    from ..viz import montage

    lines = []
    for image, degree, result in rows[:8]:
        scale = FIGURE_HEIGHT / image.shape[0]
        size = (max(1, round(image.shape[1] * scale)), FIGURE_HEIGHT)
        photo = cv2.resize(np.ascontiguousarray(image, np.float32), size, interpolation=cv2.INTER_AREA)
        blur = cv2.resize(degree, size, interpolation=cv2.INTER_AREA)
        caption = f"score {result['score']:.2f} {result['kind']}"
        lines.append(montage([photo, blur], [result["file"], caption]))
    width = max(line.shape[1] for line in lines)
    return np.concatenate([np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=1)
                           for line in lines])


def run(args) -> int:
    from ..io import IMAGE_SUFFIXES, imread, imwrite
    from ..nets.blur_map import BlurDetector
    from .restore import collect_inputs

    files = collect_inputs(args.inputs)
    if args.compare is not None:
        if args.compare.suffix.lower() not in IMAGE_SUFFIXES:
            raise UsageError(f"--compare {args.compare}: give a file ending in {', '.join(IMAGE_SUFFIXES)}.")
        if args.compare.exists() and not args.overwrite:
            raise FileExistsError(f"{args.compare} already exists; pass --overwrite to replace it.")
    targets = _map_targets(files, args.map_dir, args.overwrite) if args.map_dir is not None else None
    detector = BlurDetector(args.weights, working_size=args.working_size, device=args.device,
                            precision=args.precision)
    results, failures, figure_rows = [], [], []
    for index, path in enumerate(files):
        try:
            image = imread(path, alpha="drop")
            degree, motion = detector.maps(image)
        except (ValueError, TypeError, OSError) as error:
            failures.append({"file": str(path), "error": str(error)})
            continue
        result = {"file": str(path), **detector.judge_maps(degree, motion, threshold=args.threshold)}
        if targets is not None:
            args.map_dir.mkdir(parents=True, exist_ok=True)
            imwrite(targets[index], degree, overwrite=args.overwrite)
            result["map"] = str(targets[index])
        results.append(result)
        if args.compare is not None:
            figure_rows.append((image, degree, result))
    order = sorted(range(len(results)), key=lambda i: -results[i]["score"])
    results = [results[i] for i in order]
    if args.compare is not None and figure_rows:
        imwrite(args.compare, _figure([figure_rows[i] for i in order]), overwrite=args.overwrite)
    if args.json:
        print(json.dumps({"command": "detect", "threshold": args.threshold, "results": results,
                          "failures": failures}, indent=1))
    else:
        width = max([len(r["file"]) for r in results] + [4])
        print(f"{'file':<{width}}  score  kind     blurred")
        for r in results:
            blurred = "yes" if r["blurred"] else "no"
            print(f"{r['file']:<{width}}  {r['score']:.3f}  {r['kind']:<7}  {blurred}")
        for failure in failures:
            print(f"{failure['file']}: error: {failure['error']}")
    if failures:
        return EXIT_PARTIAL if results else EXIT_FAILED
    return EXIT_OK
