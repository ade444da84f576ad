"""Peak memory of deconvolving a 6000x4000 RGB float32 image, as a multiple of its size.

Each solver runs in a fresh interpreter; the figure is the process's peak resident
memory during the call (VmHWM, reset just before it) minus its resident memory just
before, divided by the image's own size (288 MB). That growth includes the output image.

    python benchmarks/restoration_memory.py
"""

import subprocess
import sys

from _common import PEAK_RSS_CODE, markdown_table, report

CODE = PEAK_RSS_CODE + """
import numpy as np
from pydeblur import psf
from pydeblur.restoration import {name}
k = psf.motion(31, 30)
{name}(np.random.default_rng(0).random((64, 64, 3), dtype=np.float32), k, **{params})  # compile
image = np.random.default_rng(0).random((4000, 6000, 3), dtype=np.float32)
before = reset_peak()
out = {name}(image, k, **{params})
print((rss_kb("VmHWM") - before) * 1024 / image.nbytes, out.dtype, out.shape)
"""

SOLVERS = {
    "wiener": {},
    "inverse": {},
    "richardson_lucy": {"max_iter": 3},
    "hyper_laplacian": {"beta_max": 8.0},
    "tv": {"max_iter": 3},
}


def main():
    rows = []
    for name, params in SOLVERS.items():
        out = subprocess.run([sys.executable, "-c", CODE.format(name=name, params=params)],
                             capture_output=True, text=True, check=True).stdout.split()
        rows.append((f"`{name}`", f"{float(out[0]):.2f}x"))
    report("restoration_memory",
           "Peak memory growth deconvolving a 6000x4000 RGB float32 image (x image size, output included)",
           markdown_table(["solver", "peak growth"], rows), "python benchmarks/restoration_memory.py")


if __name__ == "__main__":
    main()
