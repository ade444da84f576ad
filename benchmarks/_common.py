"""Shared helpers of the benchmark scripts: timing, markdown tables, result files."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from pydeblur.bench import best_time, markdown_table  # noqa: F401  (re-exported to the scripts)

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"


def report(name: str, title: str, table: str, command: str) -> None:
    """Print a result table and save it as benchmarks/results/<name>.md."""
    text = f"## {title}\n\n{table}\n\nMachine: {machine()}. Command: `{command}`\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
