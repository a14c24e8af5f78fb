"""Compiled random numbers: xoshiro256** streams and an exact ziggurat normal transform.

Generator
    xoshiro256** (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
    ACM Trans. Math. Softw. 47(4), 2021): 256 bits of state, period ``2^256 - 1``, 64-bit
    outputs. A block's key is the 256-bit output of ``numpy.random.SeedSequence`` for its
    (seed, replicate, purpose, block) (as :mod:`itscale.simulation.streams`); sequence ``q``
    of the block starts from ``mix64(key[w] + (q + 1) G)`` per state word ``w``, with ``mix64``
    the SplitMix64 output function (G. Steele, D. Lea and C. Flood, OOPSLA 2014; the seeding
    Vigna recommends for xoshiro) and ``G`` the odd golden-ratio constant. ``mix64`` is a
    bijection, so sequences of one block never share a starting state.

Normal transform
    The ziggurat method of G. Marsaglia and W. W. Tsang ("The ziggurat method for generating
    random variables", J. Stat. Softw. 5(8), 2000) with 1024 strips of equal area: one 64-bit
    word gives the strip (10 bits), the sign (1 bit) and a 52-bit uniform abscissa; points
    outside a strip's inner rectangle take the exact wedge test against ``exp(-x^2 / 2)``, and
    the base strip's overflow draws from the tail ``x > r`` by Marsaglia's (1964) exact
    exponential rejection. The law is exactly N(0, 1) up to the 52-bit resolution of the
    uniforms. Tables are computed here from the strip recurrence.

All compiled functions take the state as a ``(4,) uint64`` array and update it in place.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from itscale.simulation.streams import PURPOSES

__all__ = [
    "ZIG_R",
    "block_key",
    "mix64",
    "next_u64",
    "normal",
    "normal_finish",
    "normals",
    "seed_lanes",
    "uniform",
    "uniform_open",
    "xoshiro_step",
]

# --------------------------------------------------------------------------------------------
# xoshiro256**
# --------------------------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(inline="always")
def mix64(z):
    """SplitMix64 output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(nogil=True, inline="always", error_model="numpy")
def seed_lanes(key, first, stride, states):
    """States of sequences ``q = first + l * stride`` of a block into ``states (4, L)`` (lane
    ``l``): word ``w`` is ``mix64(key[w] + (q + 1) G)``, in one loop over lanes per word
    (vectorisable).

    ``key`` is the block's ``(4,) uint64`` SeedSequence output; distinct sequences get distinct
    states word by word (``mix64`` is a bijection and ``G`` is odd). An all-zero state
    (probability 2^-256) gets its first word set to 1.
    """
    n_l = states.shape[1]
    for w in range(4):
        kw = key[w]
        for lane in range(n_l):
            states[w, lane] = mix64(kw + np.uint64(first + lane * stride + 1) * _GOLDEN)
    for lane in range(n_l):
        zero = (states[0, lane] | states[1, lane] | states[2, lane] | states[3, lane]) == 0
        states[0, lane] |= np.uint64(zero)


@numba.njit(nogil=True, inline="always", error_model="numpy")
def xoshiro_step(s0, s1, s2, s3):
    """One xoshiro256** step on the state words: ``(output, s0, s1, s2, s3)``."""
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return result, s0, s1, s2, _rotl(s3, 45)


@numba.njit(nogil=True, inline="always", error_model="numpy")
def next_u64(st):
    """Next 64-bit output of xoshiro256** on state ``st`` ((4,) uint64, updated)."""
    result, st[0], st[1], st[2], st[3] = xoshiro_step(st[0], st[1], st[2], st[3])
    return result


@numba.njit(nogil=True, inline="always", error_model="numpy")
def uniform(st):
    """Uniform double in [0, 1) with 53 random bits."""
    return float(np.int64(next_u64(st) >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@numba.njit(nogil=True, inline="always", error_model="numpy")
def uniform_open(st):
    """Uniform double in (0, 1): the midpoint of one of 2^53 equal cells."""
    return (float(np.int64(next_u64(st) >> np.uint64(11))) + 0.5) * (1.0 / 9007199254740992.0)


def block_key(seed: int, replicate: int, purpose: str, block: int) -> np.ndarray:
    """256-bit key of one (seed, replicate, purpose, block), ``(4,) uint64``.

    The same SeedSequence key as :func:`itscale.simulation.streams.stream`.
    """
    seq = np.random.SeedSequence(
        entropy=int(seed), spawn_key=(int(replicate), PURPOSES[purpose], int(block))
    )
    return seq.generate_state(4, np.uint64)


# --------------------------------------------------------------------------------------------
# Ziggurat tables
# --------------------------------------------------------------------------------------------

ZIG_N = 1024
ZIG_R = 4.038849846109505
"""Right edge of the base strip for 1024 strips: the root of the strip recurrence (the top
strip's area equals the common area; 3.6541528853610088 for Marsaglia & Tsang's 256 strips).
1024 strips leave 0.43% of words to the slow path (256: 1.5%)."""

_STRIP_MASK = np.uint64(ZIG_N - 1)  # bits 0..9: strip
_SIGN_SHIFT = np.uint64(10)  # bit 10: sign; bits 12..63: abscissa


def _ziggurat_tables(n: int, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Strip edges ``x (n + 1,)`` (x[0] the base strip's virtual width, x[n] = 0), ``f(x)``,
    integer acceptance thresholds ``(n,)`` for 52-bit abscissae, and the strip area ``v``.

    Strip ``i >= 1`` is ``[0, x[i]] x [f(x[i]), f(x[i+1])]``; the base strip is the rectangle
    ``[0, r] x [0, f(r)]`` plus the tail, sampled as a box of width ``x[0] = v / f(r)``.
    """
    f_r = math.exp(-0.5 * r * r)
    v = r * f_r + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    x = np.empty(n + 1)
    x[0], x[1], x[n] = v / f_r, r, 0.0
    for i in range(1, n - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(math.exp(-0.5 * x[i] * x[i]) + v / x[i]))
    f = np.exp(-0.5 * x * x)
    f[0] = 0.0  # unused (the base strip has no wedge)
    k = np.floor(2.0**52 * (x[1:] / x[:-1])).astype(np.uint64)
    return x, f, k, v


_ZX, _ZF, _ZK, ZIG_V = _ziggurat_tables(ZIG_N, ZIG_R)
_ZW = _ZX[:-1] / 2.0**52  # abscissa per unit of the 52-bit integer


@numba.njit(nogil=True, inline="always", error_model="numpy")
def zig_fast(w):
    """Fast ziggurat step on one 64-bit word: ``(signed draw, True)`` if it lies in its strip's
    inner rectangle, else ``(unused, False)`` (finish with :func:`normal_finish`)."""
    i = w & _STRIP_MASK
    j = w >> np.uint64(12)
    x = float(np.int64(j)) * _ZW[i]
    if (w >> _SIGN_SHIFT) & np.uint64(1):
        x = -x
    return x, j < _ZK[i]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _strip_rest(st, i, x):
    """Wedge (strip i >= 1) or tail (strip 0) for |x| outside the inner rectangle; NaN: reject."""
    if i == 0:
        if x < ZIG_R:  # rounding of the integer threshold: still the inner rectangle
            return x
        while True:  # tail x > r (Marsaglia 1964)
            a = -math.log(uniform_open(st)) / ZIG_R
            b = -math.log(uniform_open(st))
            if b + b > a * a:
                return ZIG_R + a
    y = _ZF[i] + uniform(st) * (_ZF[i + 1] - _ZF[i])
    if y < math.exp(-0.5 * x * x):
        return x
    return math.nan


@numba.njit(nogil=True, cache=True, error_model="numpy")
def normal_finish(st, w):
    """Complete the draw begun with word ``w`` whose fast step failed; further uniforms (and
    fresh words after a rejection) come from ``st``."""
    while True:
        i = w & _STRIP_MASK
        x = float(np.int64(w >> np.uint64(12))) * _ZW[i]
        x = _strip_rest(st, i, x)
        if not math.isnan(x):
            return -x if (w >> _SIGN_SHIFT) & np.uint64(1) else x
        w = next_u64(st)
        z, ok = zig_fast(w)
        if ok:
            return z


@numba.njit(nogil=True, inline="always", error_model="numpy")
def normal(st):
    """One exact N(0, 1) draw by the 1024-strip ziggurat."""
    w = next_u64(st)
    z, ok = zig_fast(w)
    if ok:
        return z
    return normal_finish(st, w)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _fill_normals(st, out):
    for i in range(out.size):
        out[i] = normal(st)


def normals(state: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` draws from one stream (reference helper): ``(draws (size,), final state)``."""
    st = np.array(state, dtype=np.uint64)
    out = np.empty(int(size))
    _fill_normals(st, out)
    return out, st
