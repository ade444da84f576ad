"""numba kernel for the camera-shake random walk (imported only when a trajectory is made)."""

import math

import numba
import numpy as np


@numba.njit(cache=True)
def camera_path(step, angle, anxiety, centripetal, jitter, shake_probability,
                shake_draws, shake_angles, noise_x, noise_y):  # pragma: no cover - compiled
    """Positions (x, y) of a random walk with inertia, centripetal pull, jitter and shakes.

    Every step has length ``step``; the velocity is kept from one step to the next and
    nudged by Gaussian jitter, a pull towards the origin and, rarely, an impulsive
    shake that reverses it within +-0.5 rad. Random numbers come from the caller, one
    array entry per step, so the walk is reproducible from the caller's generator.
    """
    n = noise_x.size + 1
    x = np.zeros(n)
    y = np.zeros(n)
    vx = step * math.cos(angle)
    vy = step * math.sin(angle)
    for t in range(n - 1):
        dvx = anxiety * (jitter * noise_x[t] - centripetal * x[t]) * step
        dvy = anxiety * (jitter * noise_y[t] - centripetal * y[t]) * step
        if shake_draws[t] < shake_probability * anxiety:
            turn = math.pi + shake_angles[t] - 0.5
            dvx += 2.0 * (vx * math.cos(turn) - vy * math.sin(turn))
            dvy += 2.0 * (vx * math.sin(turn) + vy * math.cos(turn))
        nx = vx + dvx
        ny = vy + dvy
        norm = math.sqrt(nx * nx + ny * ny)
        if norm > 0.0:
            vx = nx / norm * step
            vy = ny / norm * step
        x[t + 1] = x[t] + vx
        y[t + 1] = y[t] + vy
    return x, y
