"""Exit codes of the ``pydeblur`` command: the one home of the list."""

EXIT_OK = 0  #: success
EXIT_FAILED = 1  #: the command failed: bad input, unreadable file, refused overwrite
EXIT_USAGE = 2  #: the command line itself was wrong
EXIT_PARTIAL = 3  #: a batch command failed on some of its files
EXIT_INTERRUPTED = 130  #: stopped by Ctrl-C (SIGINT)


class UsageError(ValueError):
    """A bad option value found after parsing: exits with EXIT_USAGE, like argparse's own errors."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a bad value is a usage error naming the option)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    value = non_negative_float(text)
    if value > 1:
        import argparse

        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text}")
    return value
