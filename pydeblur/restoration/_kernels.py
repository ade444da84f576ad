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


@numba.njit(cache=True)
def _largest_root(v, c, degree):  # pragma: no cover - compiled
    """Largest positive root of ``z^degree - v z + c`` (v > 0, c > 0) or -1 if none.

    The polynomial is convex for z > 0; Newton's method started right of the largest
    root (at ``v^(1/(degree-1))``) descends to it monotonically.
    """
    z_min = (v / degree) ** (1.0 / (degree - 1))
    if z_min**degree - v * z_min + c > 0:
        return -1.0
    z = v ** (1.0 / (degree - 1))
    for _ in range(30):
        g = z**degree - v * z + c
        step = g / (degree * z ** (degree - 1) - v)
        z -= step
        if abs(step) <= 1e-10 * z:
            break
    return z


@numba.njit(cache=True)
def shrink_hyper_laplacian(values, beta, alpha, out):  # pragma: no cover - compiled
    """``out = argmin_w |w|^alpha + beta/2 (w - v)^2`` element-wise, alpha in {1/2, 2/3, 1}.

    alpha = 1 is soft thresholding. For alpha = 2/3 the stationary point ``w = z^3``
    solves the quartic ``z^4 - |v| z + 2/(3 beta) = 0``; for alpha = 1/2, ``w = z^2``
    solves the cubic ``z^3 - |v| z + 1/(2 beta) = 0`` (Krishnan & Fergus 2009). The
    root is kept only where it beats ``w = 0``.
    """
    flat_in = values.ravel()
    flat_out = out.ravel()
    for n in range(flat_in.size):
        v = flat_in[n]
        a = abs(v)
        if alpha == 1.0:
            w = max(a - 1.0 / beta, 0.0)
        elif a == 0.0:
            w = 0.0
        else:
            if alpha == 0.5:
                z = _largest_root(a, 1.0 / (2.0 * beta), 3)
                w = z * z if z > 0 else 0.0
                cost_w = z + 0.5 * beta * (w - a) ** 2 if z > 0 else 0.0
            else:
                z = _largest_root(a, 2.0 / (3.0 * beta), 4)
                w = z * z * z if z > 0 else 0.0
                cost_w = z * z + 0.5 * beta * (w - a) ** 2 if z > 0 else 0.0
            if w > 0 and cost_w >= 0.5 * beta * a * a:
                w = 0.0
        flat_out[n] = w if v >= 0 else -w


@numba.njit(cache=True)
def forward_differences(x, gx, gy):  # pragma: no cover - compiled
    """Periodic forward differences of ``x`` into ``gx`` (along columns) and ``gy`` (rows)."""
    rows, cols = x.shape
    for i in range(rows):
        down = i + 1 if i + 1 < rows else 0
        for j in range(cols):
            right = j + 1 if j + 1 < cols else 0
            gx[i, j] = x[i, right] - x[i, j]
            gy[i, j] = x[down, j] - x[i, j]


@numba.njit(cache=True)
def adjoint_differences(ax, ay, bx, by, out):  # pragma: no cover - compiled
    """``out = Dx^T (ax - bx) + Dy^T (ay - by)`` for the periodic forward differences."""
    rows, cols = ax.shape
    for i in range(rows):
        up = i - 1 if i > 0 else rows - 1
        for j in range(cols):
            left = j - 1 if j > 0 else cols - 1
            out[i, j] = ((ax[i, left] - bx[i, left]) - (ax[i, j] - bx[i, j])
                         + (ay[up, j] - by[up, j]) - (ay[i, j] - by[i, j]))


@numba.njit(cache=True)
def tv_admm_update(x, zx, zy, ux, uy, threshold, isotropic):  # pragma: no cover - compiled
    """ADMM z and u steps of TV in place: ``v = Dx + u``, ``z = shrink(v)``, ``u = v - z``."""
    rows, cols = x.shape
    for i in range(rows):
        down = i + 1 if i + 1 < rows else 0
        for j in range(cols):
            right = j + 1 if j + 1 < cols else 0
            vx = x[i, right] - x[i, j] + ux[i, j]
            vy = x[down, j] - x[i, j] + uy[i, j]
            if isotropic:
                norm = np.sqrt(vx * vx + vy * vy)
                scale = max(norm - threshold, 0.0) / norm if norm > 0 else 0.0
                nx, ny = vx * scale, vy * scale
            else:
                nx = np.sign(vx) * max(abs(vx) - threshold, 0.0)
                ny = np.sign(vy) * max(abs(vy) - threshold, 0.0)
            zx[i, j], zy[i, j] = nx, ny
            ux[i, j], uy[i, j] = vx - nx, vy - ny


@numba.njit(cache=True)
def relative_change(new, old):  # pragma: no cover - compiled
    """``||new - old|| / ||new||`` accumulated in float64."""
    num = 0.0
    den = 0.0
    flat_new = new.ravel()
    flat_old = old.ravel()
    for n in range(flat_new.size):
        d = float(flat_new[n]) - float(flat_old[n])
        num += d * d
        den += float(flat_new[n]) * float(flat_new[n])
    return np.sqrt(num / den) if den > 0 else np.sqrt(num)
