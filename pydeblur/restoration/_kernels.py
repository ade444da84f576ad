"""numba kernels that apply Fourier-domain filters in one pass, in place."""

import numba
import numpy as np


@numba.njit(cache=True)
def apply_wiener(spectrum, otf, reg_rows, reg_cols, reg_power, balance):  # pragma: no cover - compiled
    """``spectrum *= conj(H) / (|H|^2 + balance * (reg_rows[i] + reg_cols[j]) ** reg_power)``.

    ``reg_power`` 0 is the identity regulariser, 1 the gradient, 2 the Laplacian.
    Frequencies where the denominator is 0 are set to 0.
    """
    rows, cols = spectrum.shape
    for i in range(rows):
        for j in range(cols):
            h = otf[i, j]
            if reg_power == 0:
                reg = 1.0
            elif reg_power == 1:
                reg = reg_rows[i] + reg_cols[j]
            else:
                reg = (reg_rows[i] + reg_cols[j]) * (reg_rows[i] + reg_cols[j])
            denominator = h.real * h.real + h.imag * h.imag + balance * reg
            if denominator > 0:
                spectrum[i, j] = spectrum[i, j] * h.conjugate() * (1.0 / denominator)
            else:
                spectrum[i, j] = 0


@numba.njit(cache=True)
def apply_truncated_inverse(spectrum, otf, threshold):  # pragma: no cover - compiled
    """``spectrum /= H`` where ``|H| >= threshold``; 0 elsewhere."""
    rows, cols = spectrum.shape
    limit = threshold * threshold
    for i in range(rows):
        for j in range(cols):
            h = otf[i, j]
            magnitude2 = h.real * h.real + h.imag * h.imag
            if magnitude2 >= limit and magnitude2 > 0:
                spectrum[i, j] = spectrum[i, j] * h.conjugate() / magnitude2
            else:
                spectrum[i, j] = 0


@numba.njit(cache=True)
def rl_ratio(observed, blurred, floor, damping, out):  # pragma: no cover - compiled
    """Richardson-Lucy ratio ``observed / blurred`` into ``out``, optionally damped.

    Where ``blurred <= floor`` the ratio is 1 (no update). With ``damping = T > 0``
    the update of pixels whose residual is within ``T`` is suppressed (White 1994):
    ``1 + U^(N-1) (N - (N-1) U) (ratio - 1)`` with ``U = min(1, (y - Hx)^2 / T^2)``, N = 10.
    """
    rows, cols = observed.shape
    for i in range(rows):
        for j in range(cols):
            b = blurred[i, j]
            if b <= floor:
                out[i, j] = 1.0
                continue
            ratio = observed[i, j] / b
            if damping > 0:
                residual = observed[i, j] - b
                u = min(1.0, residual * residual / (damping * damping))
                u9 = u * u * u
                u9 = u9 * u9 * u9
                ratio = 1.0 + u9 * (10.0 - 9.0 * u) * (ratio - 1.0)
            out[i, j] = ratio


@numba.njit(cache=True)
def tv_divergence(x, eps, out):  # pragma: no cover - compiled
    """``div(grad x / |grad x|)`` with forward differences and their adjoint, periodic."""
    rows, cols = x.shape
    gx = np.empty_like(x)
    gy = np.empty_like(x)
    for i in range(rows):
        for j in range(cols):
            dx = x[i, (j + 1) % cols] - x[i, j]
            dy = x[(i + 1) % rows, j] - x[i, j]
            norm = np.sqrt(dx * dx + dy * dy + eps * eps)
            gx[i, j] = dx / norm
            gy[i, j] = dy / norm
    for i in range(rows):
        for j in range(cols):
            out[i, j] = gx[i, j] - gx[i, j - 1] + gy[i, j] - gy[i - 1, j]
