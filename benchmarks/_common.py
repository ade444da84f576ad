"""Shared helpers of the benchmark scripts: timing, markdown tables, result files."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from pydeblur.bench import best_time, markdown_table  # noqa: F401  (re-exported to the scripts)

RESULTS = Path(__file__).resolve().parent / "results"

#: Prefix of a measuring subprocess's code (Linux): ``reset_peak()`` restarts the kernel's
#: peak-RSS counter (VmHWM) from the current RSS and returns that RSS; afterwards
#: ``rss_kb("VmHWM")`` is the peak since. Unlike ru_maxrss, a peak reached before the
#: measured call (imports, building the input) cannot hide the call's own peak.
PEAK_RSS_CODE = """
def rss_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
def reset_peak():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return rss_kb("VmRSS")
"""


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"


def report(name: str, title: str, table: str, command: str) -> None:
    """Print a result table and save it as benchmarks/results/<name>.md."""
    text = f"## {title}\n\n{table}\n\nMachine: {machine()}. Command: `{command}`\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)


def support_extent(kernel: np.ndarray, floor: float = 0.01) -> int:
    """The longer side (px) of the box around a kernel's values of at least ``floor`` times its peak."""
    rows, cols = np.nonzero(kernel >= floor * kernel.max())
    return int(max(np.ptp(rows), np.ptp(cols))) + 1


#: The generator's pull back towards the start for :func:`shake_spanning`: its default (0.35)
#: curls a path long enough to span 75 px into loops around the start, unlike real shake.
CENTRIPETAL = 0.05


def shake_spanning(extent: int, rng: np.random.Generator, tolerance: int = 2) -> np.ndarray:
    """A camera-shake kernel of :func:`pydeblur.psf.trajectory` whose support spans ``extent`` px.

    The generator's path curls back on itself (its pull towards the start), so a path of
    length L spans far less than L: a kernel drawn as ``trajectory(75, length=68)`` spans
    9-22 px. Here paths of growing length are drawn until one spans ``extent`` +- ``tolerance``
    px on its longer side (:func:`support_extent`); the kernel is the smallest odd square
    holding it.
    """
    from pydeblur import psf

    while True:
        seed = int(rng.integers(2**31))
        for length in np.geomspace(extent, 3 * extent, 16):
            kernel = psf.trajectory(length=float(length), centripetal=CENTRIPETAL, rng=seed)
            span = support_extent(kernel)
            if abs(span - extent) <= tolerance:
                return kernel
            if span > extent + tolerance:
                break
