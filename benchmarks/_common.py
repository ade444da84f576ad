"""Shared helpers of the benchmark scripts: timing, markdown tables, result files."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def best_time(func, *, repeat: int = 5, warmup: int = 1) -> float:
    """Minimum wall time of ``func()`` over ``repeat`` runs, in seconds, after warm-up."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def markdown_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"


def report(name: str, title: str, table: str, command: str) -> None:
    """Print a result table and save it as benchmarks/results/<name>.md."""
    text = f"## {title}\n\n{table}\n\nMachine: {machine()}. Command: `{command}`\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
