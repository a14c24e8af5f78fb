"""Compiled inner kernel of the exact selection quadrature (numba, GIL-free).

For every outer node z of one input it integrates, over the radius rho = |Y| of the candidate
in judge coordinates, the Gumbel kernel of x = (z - rho^2) / tau against the density of |Y|;
:func:`itscale.theory._nodes._inner` prepares its arguments and turns its sums into moments.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["_inner_kernel"]


@numba.njit(nogil=True, cache=True)
def _inner_kernel(z, active, tau, u, gl_x, gl_w, x_breaks, n_split, half_width, x_hi, x_span, out):
    """Inner sums of _inner for every outer node; out (n, 7, J) (see _inner for the rows).

    Nodes with active[i, j] False (zero outer weight: panels a chunk shares but this input
    does not need) are skipped; their zeros give a = 0, F = 0, 1 - F = 1.
    """
    n, n_outer = z.shape
    n_edges = x_breaks.size + n_split + 1
    edges = np.empty(n_edges)
    for i in range(n):
        t = tau[i]
        ui = u[i]
        for j in range(n_outer):
            if not active[i, j]:
                for row in range(7):
                    out[i, row, j] = 0.0
                continue
            zz = z[i, j]
            rho_a = np.sqrt(max(zz - x_hi * t, 0.0))
            rho_w = np.sqrt(max(zz + x_span * t, 0.0))  # window top: x = -x_span
            rho_lo = min(max(max(ui - half_width, 0.0), rho_a), rho_w)
            rho_hi = min(max(ui + half_width, rho_lo), rho_w)
            # panels: the Gumbel kernel's breakpoints (fixed x) and a uniform split of the
            # window part carrying the Gaussian mass of W, sorted (insertion sort, <= 11 edges)
            for b in range(x_breaks.size):
                e = np.sqrt(max(zz - t * x_breaks[b], 0.0))
                edges[b] = min(max(e, rho_lo), rho_hi)
            for s in range(n_split + 1):
                edges[x_breaks.size + s] = rho_lo + (rho_hi - rho_lo) * s / n_split
            for a in range(1, n_edges):
                key = edges[a]
                b = a - 1
                while b >= 0 and edges[b] > key:
                    edges[b + 1] = edges[b]
                    b -= 1
                edges[b + 1] = key
            total = 0.0
            sur = 0.0
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            for p in range(n_edges - 1):
                width = edges[p + 1] - edges[p]
                if width <= 0.0:
                    continue
                for g in range(gl_x.size):
                    rho = edges[p] + width * gl_x[g]
                    ex = np.exp((zz - rho * rho) / t)  # e^x, x = (z - rho^2) / tau
                    # P(X > x); exp(-e^x) is 0 below 1e-20 and 1 within 1e-17 outside (-39, 3.8)
                    keep = 0.0 if ex > 46.0 else (1.0 - ex if ex < 1e-17 else np.exp(-ex))
                    d = rho - ui
                    f_plus = np.exp(-0.5 * d * d) * (width * gl_w[g])
                    # f(rho + u) = f(rho - u) exp(-2 rho u): below 1e-20 of it, dropped
                    two_ru = 2.0 * rho * ui
                    f_minus = 0.0 if two_ru > 46.0 else f_plus * np.exp(-two_ru)
                    even = f_plus + f_minus  # weight * density of |Y| (times sqrt(2 pi))
                    kd = keep * ex  # Gumbel density kernel
                    total += even
                    sur += even * keep
                    a0 += kd * even
                    a1 += kd * (f_plus - f_minus) * rho
                    a2 += kd * even * rho * rho
            out[i, 0, j] = total
            out[i, 1, j] = sur
            out[i, 2, j] = a0
            out[i, 3, j] = a1
            out[i, 4, j] = a2
            out[i, 5, j] = rho_a
            out[i, 6, j] = rho_hi
