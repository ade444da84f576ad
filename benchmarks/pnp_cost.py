"""Plug-and-play deconvolution's time and memory on this CPU.

Seconds for a 255x255 grey image and a 1 MP (1000x1000) colour photo, and the peak memory
growth (VmHWM reset just before the call) restoring a 12 MP (4000x3000) colour photo, each
in a fresh process with defaults (6 iterations, the shipped denoiser, 640 px tiles), a
21 px motion kernel. The 12 MP row also states the growth as a multiple of the photo's own
float32 size (the denoiser's weights are 0.4 MB).

    python benchmarks/pnp_cost.py [--quick]   (--quick: the 255x255 and 1 MP rows only)
"""

import subprocess
import sys

from _common import PEAK_RSS_CODE, markdown_table, report

QUICK = "--quick" in sys.argv
CODE = PEAK_RSS_CODE + """
import time
import numpy as np
from pydeblur import psf
from pydeblur.operators import convolve
from pydeblur.restoration import plug_and_play
shape = {shape}
rng = np.random.default_rng(0)
image = np.clip(convolve(rng.random(shape, dtype=np.float32) * 0.2 + 0.4, psf.motion(21, 30),
                         boundary="reflect"), 0, 1).astype(np.float32)
kernel = psf.motion(21, 30)
plug_and_play(image[:64, :64], kernel)  # loads the denoiser and warms the caches
before = reset_peak()
start = time.perf_counter()
plug_and_play(image, kernel)
print(time.perf_counter() - start, (rss_kb("VmHWM") - before) / 1024)
"""


def run(shape):
    out = subprocess.run([sys.executable, "-c", CODE.format(shape=shape)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[-2]), float(out[-1])


def main():
    rows = []
    cases = [((255, 255), "255x255 grey", "<= 2 s"), ((1000, 1000, 3), "1000x1000 colour (1 MP)", "<= 30 s")]
    if not QUICK:
        cases.append(((3000, 4000, 3), "4000x3000 colour (12 MP)", "memory <= 8x the photo + the network"))
    photo_mb = 3000 * 4000 * 3 * 4 / 2**20
    for shape, label, target in cases:
        seconds, growth = run(shape)
        extra = f" = {growth / photo_mb:.1f}x the photo" if shape == (3000, 4000, 3) else ""
        rows.append((label, f"{seconds:.1f}", f"{growth:.0f}{extra}", target))
    report("pnp_cost", "Plug-and-play: time and memory, 2 CPU cores",
           markdown_table(["image", "seconds", "peak memory growth (MB)", "target"], rows),
           "python benchmarks/pnp_cost.py")


if __name__ == "__main__":
    main()
