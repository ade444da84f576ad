"""One-dimensional tuning of a method's free parameter on training pairs, for every route."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def maximize_log_scalar(score: Callable[[float], float], low: float, high: float, *,
                        grid: int = 9, refine: int = 8) -> float:
    """Argmax of ``score`` over ``[low, high]`` searched on a log scale.

    A coarse log-spaced grid finds the best bracket; golden-section search refines it.
    ``score`` is assumed unimodal near its best grid point.
    """
    logs = np.linspace(math.log(low), math.log(high), grid)
    values = [score(math.exp(v)) for v in logs]
    best = int(np.argmax(values))
    a, b = logs[max(best - 1, 0)], logs[min(best + 1, grid - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = score(math.exp(c)), score(math.exp(d))
    for _ in range(refine):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = score(math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = score(math.exp(d))
    candidates = [(values[best], logs[best]), (fc, c), (fd, d)]
    return math.exp(max(candidates)[1])


def check_tune_range(tune_range, *, name: str = "tune_range") -> tuple[float, float]:
    """``(low, high)`` with ``0 < low < high``, or a ValueError that says so."""
    try:
        low, high = (float(v) for v in tune_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {tune_range!r}.") from None
    if not 0 < low < high or not math.isfinite(high):
        raise ValueError(f"{name} must satisfy 0 < low < high (finite), got {tune_range!r}.")
    return low, high


def tune_on_pairs(restore_with: Callable, pairs, tune_range, *, upto_shift: bool = False,
                  name: str = "tune_range") -> float:
    """The value in ``tune_range`` whose restorations have the best mean PSNR on ``pairs``.

    ``restore_with(blurry, value, index)`` restores the ``index``-th blurry image with the
    parameter at ``value`` (the index lets a caller reuse per-image work, such as a
    kernel estimated once). PSNR is measured as the Deblurrer's ``score`` measures it
    (``upto_shift``: after the best shift). The search is :func:`maximize_log_scalar`.
    """
    from .metrics import psnr, psnr_upto_shift

    low, high = check_tune_range(tune_range, name=name)
    measure = psnr_upto_shift if upto_shift else psnr

    def score(value):
        return float(np.mean([measure(restore_with(b, value, i), s) for i, (b, s) in enumerate(pairs)]))

    return maximize_log_scalar(score, low, high)
