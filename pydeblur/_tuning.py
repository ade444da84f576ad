"""One-dimensional tuning of a solver's free parameter on training pairs."""

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
