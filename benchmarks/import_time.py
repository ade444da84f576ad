"""Time `import pydeblur` (and what it pulls in) in a fresh interpreter."""

import subprocess
import sys

from _common import markdown_table, report

CODE = """
import sys, time
t = time.perf_counter()
import {module}
dt = time.perf_counter() - t
print(dt, int('torch' in sys.modules), int('numba' in sys.modules))
"""


def measure(module: str, repeat: int = 5):
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CODE.format(module=module)],
                             capture_output=True, text=True, check=True).stdout.split()
        runs.append((float(out[0]), out[1] == "1", out[2] == "1"))
    best = min(runs)
    return best[0] * 1e3, best[1], best[2]


def main():
    rows = []
    for module in ("pydeblur", "pydeblur.psf", "pydeblur.operators", "pydeblur.synth", "skimage.restoration"):
        ms, torch, numba = measure(module)
        rows.append((f"`import {module}`", f"{ms:.1f}", "yes" if torch else "no", "yes" if numba else "no"))
    report("import_time", "Import time (best of 5, fresh interpreter)",
           markdown_table(["statement", "ms", "imports torch", "imports numba"], rows),
           "python benchmarks/import_time.py")


if __name__ == "__main__":
    main()
