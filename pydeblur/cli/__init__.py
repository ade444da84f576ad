"""The ``pydeblur`` command: the parser and ``main``; one module per subcommand.

Each subcommand module (``psf``, ``synth``, ``restore``, ``detect``, ``export``, ``serve``, ``bench``,
``train``, ``demo``)
has ``add_parser(commands)`` and ``run(args) -> exit code``; the exit codes are listed
once in :mod:`pydeblur.cli._exit`. ``python -m pydeblur`` and ``python -m pydeblur.cli``
run the same command.
"""

from __future__ import annotations

import argparse
import sys

from ._exit import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, UsageError

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "UsageError",
           "build_parser", "main"]


def _commands():
    """``{command name: run function}``, importing the subcommand modules."""
    from . import bench, demo, detect, export, psf, restore, serve, synth, train

    return {"psf": psf.run, "synth": synth.run, "restore": restore.run, "bench": bench.run,
            "detect": detect.run, "export": export.run, "serve": serve.run, "train": train.run,
            "train-prior": train.run_prior, "train-denoiser": train.run_denoiser,
            "train-blur-map": train.run_blur_map, "demo": demo.run}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pydeblur`` command."""
    from .. import __version__
    from . import bench, demo, detect, export, psf, restore, serve, synth, train

    parser = argparse.ArgumentParser(
        prog="pydeblur", description="Image deconvolution: PSFs, blur synthesis, deblurring.")
    parser.add_argument("--version", action="version", version=f"pydeblur {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    psf.add_parser(commands)
    synth.add_parser(commands)
    train.add_parser(commands)
    train.add_prior_parser(commands)
    train.add_denoiser_parser(commands)
    train.add_blur_map_parser(commands)
    restore.add_parser(commands)
    detect.add_parser(commands)
    export.add_parser(commands)
    serve.add_parser(commands)
    bench.add_parser(commands)
    demo.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _commands()[args.command](args)
    except UsageError as error:
        print(f"pydeblur {args.command}: error: {error}", file=sys.stderr)
        _print_json_error(args, str(error), EXIT_USAGE)
        return EXIT_USAGE
    except (ValueError, TypeError, OSError, MemoryError, ImportError) as error:  # ImportError: an extra
        print(f"pydeblur: error: {error}", file=sys.stderr)
        _print_json_error(args, str(error), EXIT_FAILED)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("pydeblur: interrupted", file=sys.stderr)
        _print_json_error(args, "interrupted", EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED


def _print_json_error(args, message: str, code: int) -> None:
    """With ``--json``, a failed command still prints one JSON object on stdout."""
    if getattr(args, "json", False):
        import json

        print(json.dumps({"command": args.command, "error": message, "exit_code": code}))
