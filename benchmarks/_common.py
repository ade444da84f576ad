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
