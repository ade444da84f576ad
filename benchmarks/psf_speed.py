"""Trajectory (camera-shake) kernel generation time per 64x64 kernel."""

import time

import numpy as np
from _common import markdown_table, report

from pydeblur import psf


def reference_walk_ms(n_kernels: int = 20) -> float:
    """A plain-Python loop of the same random walk + splatting, as the reference generators do."""
    start = time.perf_counter()
    for seed in range(n_kernels):
        rng = np.random.default_rng(seed)
        n, step, anxiety = 2000, 60 / 1999, 0.005
        x = [0j] * n
        v = complex(np.cos(1.0), np.sin(1.0)) * step
        for t in range(n - 1):
            shake = 0
            if rng.random() < 0.1 * anxiety:
                shake = 2 * v * np.exp(1j * (np.pi + rng.random() - 0.5))
            dv = shake + anxiety * (5 * complex(rng.standard_normal(), rng.standard_normal())
                                    - 0.35 * x[t]) * step
            v = (v + dv) / abs(v + dv) * step
            x[t + 1] = x[t] + v
        kernel = np.zeros((64, 64))
        for p in x:
            r, c = p.imag + 32, p.real + 32
            r0, c0 = int(np.floor(r)), int(np.floor(c))
            fr, fc = r - r0, c - c0
            if 0 <= r0 < 63 and 0 <= c0 < 63:
                kernel[r0, c0] += (1 - fr) * (1 - fc)
                kernel[r0 + 1, c0] += fr * (1 - fc)
                kernel[r0, c0 + 1] += (1 - fr) * fc
                kernel[r0 + 1, c0 + 1] += fr * fc
    return (time.perf_counter() - start) / n_kernels * 1e3


def main():
    psf.trajectory(64, length=60, rng=0)  # compile (or load the cached) numba kernel
    n = 500
    start = time.perf_counter()
    for seed in range(n):
        psf.trajectory(64, length=60, rng=seed)
    ours = (time.perf_counter() - start) / n * 1e3
    ref = reference_walk_ms()
    others = []
    for name, make in (("gaussian(sigma=8, size=64)", lambda: psf.gaussian(8.0, size=64)),
                       ("defocus(radius=20, size=64)", lambda: psf.defocus(20.0, size=64)),
                       ("motion(length=60, angle=30, size=64)", lambda: psf.motion(60, 30, size=64))):
        start = time.perf_counter()
        for _ in range(100):
            make()
        others.append((f"`psf.{name}`", f"{(time.perf_counter() - start) * 10:.3f}", ""))
    rows = [("`psf.trajectory(64, length=60)`", f"{ours:.3f}", f"{ref / ours:.0f}x faster"),
            ("plain-Python walk + splat (reference-style loop)", f"{ref:.1f}", "1x"), *others]
    report("psf_speed", "PSF generation time per 64x64 kernel",
           markdown_table(["generator", "ms per kernel", "vs reference loop"], rows),
           "python benchmarks/psf_speed.py")


if __name__ == "__main__":
    main()
