"""`convolve` on a 1024x1024 RGB float32 image with a 31x31 PSF vs scipy and OpenCV."""

import cv2
import numpy as np
import scipy.signal
from _common import best_time, markdown_table, report

from pydeblur import psf
from pydeblur.operators import convolve


def main():
    rng = np.random.default_rng(0)
    image = rng.random((1024, 1024, 3), dtype=np.float32)
    kernel = psf.trajectory(31, length=40, rng=1)
    k32 = kernel.astype(np.float32)
    flipped = np.ascontiguousarray(k32[::-1, ::-1])
    timings = {
        "pydeblur.convolve(boundary='reflect')": lambda: convolve(image, kernel, boundary="reflect"),
        "pydeblur.convolve(boundary='zero')": lambda: convolve(image, kernel, boundary="zero"),
        "pydeblur.convolve(boundary='reflect', workers=1)":
            lambda: convolve(image, kernel, boundary="reflect", workers=1),
        "scipy.signal.fftconvolve(mode='same')  (zero boundary)":
            lambda: scipy.signal.fftconvolve(image, k32[:, :, None], mode="same"),
        "cv2.filter2D(BORDER_REFLECT)": lambda: cv2.filter2D(image, -1, flipped,
                                                             borderType=cv2.BORDER_REFLECT),
    }
    # Same numbers, so the comparison is of equals.
    ours = convolve(image, kernel, boundary="reflect")
    np.testing.assert_allclose(ours, cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT),
                               atol=1e-5)
    np.testing.assert_allclose(convolve(image, kernel, boundary="zero"),
                               scipy.signal.fftconvolve(image, k32[:, :, None], mode="same"), atol=1e-5)
    seconds = {name: best_time(f, repeat=7) for name, f in timings.items()}
    fastest_peer = min(seconds[n] for n in seconds if not n.startswith("pydeblur"))
    rows = [(f"`{name}`", f"{s * 1e3:.1f}", f"{fastest_peer / s:.2f}")
            for name, s in seconds.items()]
    report("convolve_speed",
           "convolve: 1024x1024 RGB float32, 31x31 PSF (best of 7; 2 threads unless stated)",
           markdown_table(["call", "ms", "speed vs fastest peer"], rows),
           "python benchmarks/convolve_speed.py")


if __name__ == "__main__":
    main()
