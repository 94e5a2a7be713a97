"""The compiled (numba) fused E-step: one pass over the points per call.

gmm.py's numpy code is the reference this module is tested against, and the
fallback. Three kernels, with the signatures gmm.py's dispatch uses:

``statistics_pass(X, log_weights, means, prec_chol, centers) -> (ll_sum, nk, s1, s2)``
    log-densities, log-likelihood, responsibilities and the sufficient statistics
    fused, point block by point block, without ever making an (n, k) array.
``responsibilities_pass(X, log_weights, means, prec_chol) -> (ll_sum, resp)``
    the same E-step, writing the (n, k) responsibilities.
``colours_pass(X, log_weights, means, prec_chol, rgb, hard) -> argb``
    the same E-step, writing each point's colour (the components' colours mixed by
    its responsibilities, or its most likely component's): what the window draws.

Design
------
* The points are cut into tasks of ``TASK`` points, handled in parallel
  (``prange``); a task walks through its points ``BLOCK`` at a time, so a block's
  (k, BLOCK) log-densities stay in the core's cache. Every task writes its own
  partial sums, which are added up in task order afterwards: the result does not
  depend on the number of threads or on their scheduling.
* ``fastmath`` is off, except one flag, ``reassoc``, on the three loops that sum
  over a block's points (``_REDUCTIONS``): it lets the compiler keep partial sums
  in vector registers, 5x faster than a strict left-to-right sum. The order it
  picks is fixed in the compiled code, so results stay deterministic; no flag
  that assumes away NaN or infinity is used (a weight of 0 is a log of -inf).
* The exponential and the logarithm are computed here (exp: range reduction by
  ln 2, a degree-13 Taylor polynomial in Estrin's scheme and an exponent built
  from its bits; log: exponent from the bits and the atanh series; both within
  2 ulp of libm's, tested), in loops the compiler turns into vector code; calls
  to libm are scalar and 2x slower. exp below exp(-708) is flushed to 0 (libm
  would give a subnormal; a responsibility of 1e-308 changes no statistic).
* Fewer than ``PARALLEL_TASKS`` tasks run in the calling thread; more are handed
  to numba's threads one task at a time (``set_parallel_chunksize(1)``), so a core
  busy with something else delays a pass by its share, not by half the work.
* Statistics are accumulated about each component's own centre
  (``centers``), so data far from the origin (clusters at 1e6 of spread 1) keep
  their digits; the log-densities use ``x - means_k`` directly for the same reason.
* d = 2 has its own unrolled path; any other d goes through the generic one.

Compilation never blocks the user: nothing here imports numba until
:func:`warm_up_in_background` (or the first call of a kernel) does, in a daemon
thread; :func:`ready` says whether the compiled kernels can be used now. With
numba's on-disk cache (``cache=True``) the compilation happens once per install: a
child process compiles (or checks) the cache, then this process loads from it; once a
build has recorded that the cache holds every kernel (:func:`_write_stamp`), later
starts load at once, without the child.
If numba is missing or fails, :func:`ready` stays False and :func:`failure` says
why; gmm.py keeps its numpy path. ``EMVIZ_NUMBA=0`` in the environment turns the
kernel off.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

__all__ = [
    "BLOCK",
    "TASK",
    "bin_colours",
    "colours_pass",
    "compile_seconds",
    "density_pixels",
    "failure",
    "leave_a_core",
    "ready",
    "responsibilities_pass",
    "statistics_pass",
    "wait",
    "warm_up_in_background",
]

BLOCK = 256  # points per block: a (k, BLOCK) float64 array stays in L1/L2 for k up to ~16
TASK = 16 * BLOCK  # points per parallel task and per partial sum
PARALLEL_TASKS = 4  # fewer tasks than this run in the calling thread alone

_LOG_2PI = math.log(2 * math.pi)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 2^52 + 2^51: x + _ROUND rounds x to an integer held in the low bits
_ROUND_BITS = int(np.array([_ROUND]).view(np.int64)[0])
_EXP_MIN = -708.0  # below this exp(t) is subnormal; it is flushed to 0
_SQRT_HALF_BITS = int(np.array([math.sqrt(0.5)]).view(np.int64)[0])
_L3, _L5, _L7, _L9, _L11, _L13, _L15, _L17, _L19, _L21, _L23 = (2.0 / j for j in range(3, 25, 2))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = (
    1.0 / math.factorial(i) for i in range(2, 14)
)

# numba.prange once built; plain range lets the module import without numba
prange = range


# --------------------------------------------------------------------------- leaf loops


def _exp_add(row, m, total, t, shifted, bits, n):
    """In place: row[i] = exp(row[i] - m[i]), and total[i] += row[i], for i < n.

    Every row[i] - m[i] is <= 0. ``t`` and ``shifted`` are float scratch arrays,
    ``bits`` is ``shifted`` viewed as int64.
    """
    for i in range(n):
        x = row[i] - m[i]
        t[i] = x
        shifted[i] = x * _LOG2E + _ROUND
    for i in range(n):
        kf = shifted[i] - _ROUND  # nearest integer to x / ln 2
        r = (t[i] - kf * _LN2_HI) - kf * _LN2_LO  # |r| <= ln(2) / 2
        # the degree-13 Taylor polynomial, Estrin's scheme (shorter dependency chains)
        r2 = r * r
        r4 = r2 * r2
        p01 = 1.0 + r
        p23 = _C2 + _C3 * r
        p45 = _C4 + _C5 * r
        p67 = _C6 + _C7 * r
        p89 = _C8 + _C9 * r
        p1011 = _C10 + _C11 * r
        p1213 = _C12 + _C13 * r
        q0 = p01 + p23 * r2
        q1 = p45 + p67 * r2
        q2 = p89 + p1011 * r2
        row[i] = (q0 + q1 * r4) + (q2 + p1213 * r4) * (r4 * r4)
    for i in range(n):
        bits[i] = (bits[i] - _ROUND_BITS + 1023) << 52  # the float 2^kf
    for i in range(n):
        v = row[i] * shifted[i]
        v = v if t[i] >= _EXP_MIN else 0.0
        row[i] = v
        total[i] += v


def _sum(a, n):
    """sum(a[:n]); compiled with the one fast-math flag ``reassoc`` (see _REDUCTIONS)."""
    total = 0.0
    for i in range(n):
        total += a[i]
    return total


def _dot(a, b, n):
    """sum(a[:n] * b[:n]); compiled with ``reassoc``."""
    total = 0.0
    for i in range(n):
        total += a[i] * b[i]
    return total


def _moments_2d(x0, x1, row, inv, c0, c1, n, out):
    """out += [sum r, sum r u, sum r v, sum r u u, sum r u v, sum r v v], r = row * inv,
    u = x0 - c0, v = x1 - c1: one component's statistics of a block in d = 2. ``reassoc``.
    """
    s_n = 0.0
    s_u = 0.0
    s_v = 0.0
    s_uu = 0.0
    s_uv = 0.0
    s_vv = 0.0
    for i in range(n):
        r = row[i] * inv[i]
        u = x0[i] - c0
        v = x1[i] - c1
        ru = r * u
        rv = r * v
        s_n += r
        s_u += ru
        s_v += rv
        s_uu += ru * u
        s_uv += ru * v
        s_vv += rv * v
    out[0] += s_n
    out[1] += s_u
    out[2] += s_v
    out[3] += s_uu
    out[4] += s_uv
    out[5] += s_vv


def _log_prob_block(xt, n, means, prec_chol, const, lp, y, q):
    """lp[c, i] = const[c] - 0.5 ||(x_i - means_c) @ prec_chol_c||^2 for the block's n points.

    ``xt`` is the block transposed, (d, BLOCK); ``y`` and ``q`` are (BLOCK,) scratch.
    """
    k, d = means.shape
    if d == 2:
        x0 = xt[0]
        x1 = xt[1]
        for c in range(k):
            m0 = means[c, 0]
            m1 = means[c, 1]
            p00 = prec_chol[c, 0, 0]
            p01 = prec_chol[c, 0, 1]
            p10 = prec_chol[c, 1, 0]
            p11 = prec_chol[c, 1, 1]
            kc = const[c]
            row = lp[c]
            for i in range(n):
                u = x0[i] - m0
                v = x1[i] - m1
                y0 = u * p00 + v * p10
                y1 = u * p01 + v * p11
                row[i] = kc - 0.5 * (y0 * y0 + y1 * y1)
        return
    for c in range(k):
        for i in range(n):
            q[i] = 0.0
        for j in range(d):
            for i in range(n):
                y[i] = 0.0
            for l in range(d):
                p = prec_chol[c, l, j]
                if p != 0.0:  # a triangular factor: adding 0 * (x - mu) changes nothing
                    mu = means[c, l]
                    xl = xt[l]
                    for i in range(n):
                        y[i] += (xl[i] - mu) * p
            for i in range(n):
                q[i] += y[i] * y[i]
        kc = const[c]
        row = lp[c]
        for i in range(n):
            row[i] = kc - 0.5 * q[i]


def _log_at_least_one(s, s_bits, m, out, f, f_bits, e, e_bits, n):
    """out[i] = m[i] + log(s[i]) for s[i] >= 1 (a sum of exponentials whose largest is 1).

    s = 2^e f with f in [sqrt(1/2), sqrt(2)) read from the bits; log f = 2 atanh(z),
    z = (f - 1) / (f + 1), |z| < 0.172, as its series to z^23: within 2 ulp of libm's
    log, in a loop that vectorises. Anything else (0, NaN: a point no component can
    explain) goes to libm. f, e are float scratch arrays, f_bits, e_bits their int64 views.
    """
    for i in range(n):
        tmp = s_bits[i] - _SQRT_HALF_BITS
        k = tmp >> 52
        f_bits[i] = s_bits[i] - (k << 52)
        e_bits[i] = k + _ROUND_BITS  # the float _ROUND + k
    for i in range(n):
        x = f[i]
        z = (x - 1.0) / (x + 1.0)
        w = z * z
        p = _L23
        p = p * w + _L21
        p = p * w + _L19
        p = p * w + _L17
        p = p * w + _L15
        p = p * w + _L13
        p = p * w + _L11
        p = p * w + _L9
        p = p * w + _L7
        p = p * w + _L5
        p = p * w + _L3
        log_f = 2.0 * z + z * (w * p)
        ef = e[i] - _ROUND
        out[i] = m[i] + (ef * _LN2_HI + (log_f + ef * _LN2_LO))
    for i in range(n):
        if not s[i] >= 1.0:
            out[i] = m[i] + math.log(s[i])


def _normalize_block(lp, n, k, m, s, s_bits, point_ll, t, t_bits, shifted, bits):
    """Turn lp (k, BLOCK) into exp(lp - max) in place; s becomes 1 / their sum, point_ll the log-sum-exp."""
    row0 = lp[0]
    for i in range(n):
        m[i] = row0[i]
    for c in range(1, k):
        row = lp[c]
        for i in range(n):
            v = row[i]
            m[i] = v if v > m[i] else m[i]
    for i in range(n):
        s[i] = 0.0
    for c in range(k):
        _exp_add(lp[c], m, s, t, shifted, bits, n)
    _log_at_least_one(s, s_bits, m, point_ll, t, t_bits, shifted, bits, n)
    for i in range(n):
        s[i] = 1.0 / s[i]


def _transpose_block(X, start, n, xt):
    d = X.shape[1]
    if d == 2:
        x0 = xt[0]
        x1 = xt[1]
        for i in range(n):
            x0[i] = X[start + i, 0]
            x1[i] = X[start + i, 1]
        return
    for i in range(n):
        for j in range(d):
            xt[j, i] = X[start + i, j]


def _n_stats(d):
    return 1 + d + d * (d + 1) // 2


def _statistics_block(xt, n, lp, inv, centers, acc, dx, w):
    """Add a block's statistics to acc (k, 1 + d + d(d+1)/2), about centers.

    Rows of acc[c]: nk, then s1 (d), then the upper triangle of s2 row by row.
    lp holds exp(lp - max); inv is 1 / sum_c exp(lp - max). dx (d, BLOCK), w (BLOCK,) scratch.
    """
    k, d = centers.shape
    if d == 2:
        for c in range(k):
            _moments_2d(xt[0], xt[1], lp[c], inv, centers[c, 0], centers[c, 1], n, acc[c])
        return
    for c in range(k):
        row = lp[c]
        for i in range(n):
            row[i] *= inv[i]
        acc[c, 0] += _sum(row, n)
        for j in range(d):
            cj = centers[c, j]
            xj = xt[j]
            dxj = dx[j]
            for i in range(n):
                dxj[i] = xj[i] - cj
            acc[c, 1 + j] += _dot(row, dxj, n)
        at = 1 + d
        for j in range(d):
            dxj = dx[j]
            for i in range(n):
                w[i] = row[i] * dxj[i]
            for l in range(j, d):
                acc[c, at] += _dot(w, dx[l], n)
                at += 1


# --------------------------------------------------------------------------- parallel drivers


def _block_scratch(d, k):
    """A task's scratch arrays for :func:`_e_step_block`: xt (d, BLOCK), lp (k, BLOCK), m, s,
    point_ll, t, shifted (BLOCK,), and the int64 views s_bits, t_bits, bits of s, t, shifted."""
    s = np.empty(BLOCK)
    t = np.empty(BLOCK)
    shifted = np.empty(BLOCK)
    return (np.empty((d, BLOCK)), np.empty((k, BLOCK)), np.empty(BLOCK), s, s.view(np.int64),
            np.empty(BLOCK), t, t.view(np.int64), shifted, shifted.view(np.int64))


def _e_step_block(X, start, nb, means, prec_chol, const, xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits):
    """The E-step of points start .. start + nb: xt their coordinates (d, nb); lp (k, nb) becomes
    exp(log p - max), s 1 / the sum of that over the components, point_ll each point's log-sum-exp."""
    _transpose_block(X, start, nb, xt)
    _log_prob_block(xt, nb, means, prec_chol, const, lp, m, s)
    _normalize_block(lp, nb, lp.shape[0], m, s, s_bits, point_ll, t, t_bits, shifted, bits)


def _statistics_task(task, X, means, prec_chol, centers, const, part_ll, part):
    """One task's points: part_ll[task] = their log-likelihood sum, part[task] their statistics."""
    n, d = X.shape
    k = means.shape[0]
    xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits = _block_scratch(d, k)
    dx = np.empty((d, BLOCK))
    acc = part[task]
    ll = 0.0
    stop = min(n, (task + 1) * TASK)
    for start in range(task * TASK, stop, BLOCK):
        nb = min(BLOCK, stop - start)
        _e_step_block(X, start, nb, means, prec_chol, const, xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits)
        ll += _sum(point_ll, nb)
        _statistics_block(xt, nb, lp, s, centers, acc, dx, t)
    part_ll[task] = ll


def _responsibilities_task(task, X, means, prec_chol, const, part_ll, resp):
    """One task's points: part_ll[task] = their log-likelihood sum; their rows of resp."""
    n, d = X.shape
    k = means.shape[0]
    xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits = _block_scratch(d, k)
    ll = 0.0
    stop = min(n, (task + 1) * TASK)
    for start in range(task * TASK, stop, BLOCK):
        nb = min(BLOCK, stop - start)
        _e_step_block(X, start, nb, means, prec_chol, const, xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits)
        ll += _sum(point_ll, nb)
        for i in range(nb):
            inv = s[i]
            for c in range(k):
                resp[start + i, c] = lp[c, i] * inv
    part_ll[task] = ll


def _colours_task(task, X, means, prec_chol, const, rgb, hard, out):
    """One task's points: out[i] = the opaque ARGB32 colour of point i (gmm.mix_colours)."""
    n, d = X.shape
    k = means.shape[0]
    xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits = _block_scratch(d, k)
    best = np.empty(BLOCK)
    label = np.empty(BLOCK, dtype=np.int64)
    pixel = np.empty(BLOCK, dtype=np.int64)
    packed = np.empty(k, dtype=np.int64)
    for c in range(k):
        packed[c] = 0xFF000000 | (int(rgb[c, 0]) << 16) | (int(rgb[c, 1]) << 8) | int(rgb[c, 2])
    stop = min(n, (task + 1) * TASK)
    for start in range(task * TASK, stop, BLOCK):
        nb = min(BLOCK, stop - start)
        _e_step_block(X, start, nb, means, prec_chol, const, xt, lp, m, s, s_bits, point_ll, t, t_bits, shifted, bits)
        for c in range(k):  # the responsibilities, as responsibilities_pass writes them
            row = lp[c]
            for i in range(nb):
                row[i] *= s[i]
        if hard:  # the first most likely component
            row = lp[0]
            for i in range(nb):
                best[i] = row[i]
                label[i] = 0
            for c in range(1, k):
                row = lp[c]
                for i in range(nb):
                    if row[i] > best[i]:
                        best[i] = row[i]
                        label[i] = c
            for i in range(nb):
                out[start + i] = packed[label[i]]
            continue
        for i in range(nb):
            pixel[i] = 0xFF000000
        for j in range(3):  # a channel: sum_c rgb[c, j] r_c, component by component as mix_colours
            for i in range(nb):
                t[i] = 0.0
            for c in range(k):
                w = rgb[c, j]
                row = lp[c]
                for i in range(nb):
                    t[i] += w * row[i]
            shift = 16 - 8 * j
            for i in range(nb):
                v = (t[i] + _ROUND) - _ROUND  # round half to even, as numpy's rint
                v = 0.0 if not v > 0.0 else (255.0 if v > 255.0 else v)
                pixel[i] |= np.int64(v) << shift
        for i in range(nb):
            out[start + i] = pixel[i]


def _colours_tasks(X, means, prec_chol, const, rgb, hard, out):
    """Write out (n,), the points' colours."""
    n_tasks = (X.shape[0] + TASK - 1) // TASK
    if n_tasks >= PARALLEL_TASKS:
        for task in prange(n_tasks):
            _colours_task(task, X, means, prec_chol, const, rgb, hard, out)
    else:
        for task in range(n_tasks):
            _colours_task(task, X, means, prec_chol, const, rgb, hard, out)


def _bin_colours(flat, argb, acc):
    """acc[p] += (1, red, green, blue) of every point i in pixel p = flat[i] (the density image's bins).

    Sums of whole numbers below 2^53, added in point order: exactly numpy's bincount.
    """
    for i in range(flat.shape[0]):
        p = flat[i]
        c = np.int64(argb[i])
        acc[p, 0] += 1.0
        acc[p, 1] += (c >> 16) & 0xFF
        acc[p, 2] += (c >> 8) & 0xFF
        acc[p, 3] += c & 0xFF


def _spread(a, out):
    """out = a plus each pixel's four neighbours inside the image (the density image's small cross)."""
    h, w = a.shape
    for y in range(h):
        row = a[y]
        o = out[y]
        for x in range(w):
            o[x] = row[x]
        for x in range(1, w):
            o[x] += row[x - 1]
        for x in range(w - 1):
            o[x] += row[x + 1]
        if y > 0:
            up = a[y - 1]
            for x in range(w):
                o[x] += up[x]
        if y + 1 < h:
            down = a[y + 1]
            for x in range(w):
                o[x] += down[x]


def _keep(spread, dense, light_sparse, light_dense):
    """How much of a pixel's colour stays (the rest is white): darker where more points fall,
    on a log scale, the view's densest pixel darkest."""
    strength = math.log1p(spread / 5.0) / dense if dense > 0.0 and spread > 0.0 else 0.0
    strength = 0.0 if strength < 0.0 else (1.0 if strength > 1.0 else strength)
    return 1.0 - (light_sparse + (light_dense - light_sparse) * strength)


def _density_pixels(counts, sums, dense, light_sparse, light_dense, image):
    """The density image's pixels from its bins (pointdensity.density_image's numpy steps)."""
    h, w = counts.shape
    spread = np.empty((h, w))
    _spread(counts, spread)
    # a pixel's spread is a whole number of points: its lightening comes from a table up to 4096
    table = np.empty(4097)
    for v in range(4097):
        table[v] = _keep(float(v), dense, light_sparse, light_dense)
    keep = np.empty((h, w))
    for y in range(h):
        s_row = spread[y]
        k_row = keep[y]
        for x in range(w):
            v = s_row[x]
            k_row[x] = table[int(v)] if v <= 4096.0 else _keep(v, dense, light_sparse, light_dense)
    pixels = np.full((h, w), 0xFF000000, dtype=np.int64)
    total = np.empty((h, w))
    for channel in range(3):
        _spread(sums[channel], total)
        shift = 16 - 8 * channel
        for y in range(h):
            s_row = spread[y]
            t_row = total[y]
            k_row = keep[y]
            p_row = pixels[y]
            for x in range(w):
                if s_row[x] > 0.0:
                    v = 255.0 - (255.0 - t_row[x] / s_row[x]) * k_row[x]
                    v = (v + _ROUND) - _ROUND  # round half to even, as numpy's rint
                    v = 0.0 if not v > 0.0 else (255.0 if v > 255.0 else v)
                    p_row[x] |= np.int64(v) << shift
    for y in range(h):
        s_row = spread[y]
        p_row = pixels[y]
        i_row = image[y]
        for x in range(w):
            i_row[x] = p_row[x] if s_row[x] > 0.0 else 0


def _statistics_tasks(X, means, prec_chol, centers, const, part_ll, part):
    """Fill the per-task partial sums: part_ll (n_tasks,) and part (n_tasks, k, 1 + d + d(d+1)/2)."""
    n_tasks = part_ll.shape[0]
    if n_tasks >= PARALLEL_TASKS:
        for task in prange(n_tasks):
            _statistics_task(task, X, means, prec_chol, centers, const, part_ll, part)
    else:  # waking threads would cost more than they give
        for task in range(n_tasks):
            _statistics_task(task, X, means, prec_chol, centers, const, part_ll, part)


def _responsibilities_tasks(X, means, prec_chol, const, part_ll, resp):
    """Write resp (n, k) and the per-task log-likelihood sums part_ll (n_tasks,)."""
    n_tasks = part_ll.shape[0]
    if n_tasks >= PARALLEL_TASKS:
        for task in prange(n_tasks):
            _responsibilities_task(task, X, means, prec_chol, const, part_ll, resp)
    else:
        for task in range(n_tasks):
            _responsibilities_task(task, X, means, prec_chol, const, part_ll, resp)


def _reduce(part_ll, part, k, d):
    """Add the task partials up in task order; unpack into nk, s1 and a symmetric s2."""
    ll = 0.0
    for v in part_ll:
        ll += v
    total = np.zeros(part.shape[1:])
    for task in range(part.shape[0]):
        total += part[task]
    nk = np.empty(k)
    s1 = np.empty((k, d))
    s2 = np.empty((k, d, d))
    for c in range(k):
        nk[c] = total[c, 0]
        at = 1 + d
        for j in range(d):
            s1[c, j] = total[c, 1 + j]
            for l in range(j, d):
                s2[c, j, l] = total[c, at]
                s2[c, l, j] = total[c, at]
                at += 1
    return ll, nk, s1, s2


# --------------------------------------------------------------------------- building


_REDUCTIONS = ("_sum", "_dot", "_moments_2d")  # compiled with fastmath={"reassoc"}
_LEAVES = (
    "_exp_add",
    "_log_at_least_one",
    "_n_stats",
    "_log_prob_block",
    "_normalize_block",
    "_transpose_block",
    "_statistics_block",
    "_block_scratch",
    "_e_step_block",
    "_statistics_task",
    "_responsibilities_task",
    "_colours_task",
    "_bin_colours",
    "_spread",
    "_keep",
    "_density_pixels",
)
_DRIVERS = ("_statistics_tasks", "_responsibilities_tasks", "_colours_tasks")

_lock = threading.Lock()  # one build; and numba's workqueue threading layer is not re-entrant
_built = threading.Event()
_finished = threading.Event()
_stopping = threading.Event()  # the interpreter is exiting: the build gives up at its next safe point
_thread = None
_child = None  # the process filling the cache, once started
_failure = None
_compile_seconds = None
_numba = None
EXIT_WAIT = 30.0  # seconds the exit waits for numba work already under way in this process


def _enabled():
    return os.environ.get("EMVIZ_NUMBA", "1").strip().lower() not in ("0", "no", "off", "false")


_CHILD = "EMVIZ_KERNEL_CHILD"


class _Stopped(Exception):
    """The interpreter began to exit while the build was waiting."""


def _lock_path():
    """One lock file per user and numba cache: the processes that share a cache compile one at a time."""
    where = f"{os.path.abspath(__file__)}|{os.environ.get('NUMBA_CACHE_DIR', '')}|{sys.version_info[:2]}"
    digest = hashlib.sha1(where.encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), f"emviz-kernel-{os.getuid()}-{digest}.lock")


def _stamp_path():
    """Where a build that left the kernels in numba's cache says so (beside the lock file)."""
    return _lock_path()[: -len(".lock")] + ".cached.json"


def _cpu_identity():
    """The processor numba compiles for, as far as the operating system tells it cheaply."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            wanted = ("model name", "flags", "features", "cpu model", "isa")
            return sorted({line.strip() for line in f if line.split(":")[0].strip().lower() in wanted})
    except OSError:
        import platform

        return [platform.processor()]


def _cache_key():
    """What numba's cached kernels depend on besides the cache files themselves: this source
    (numba keys its index on the file's time stamp and size), numba's and Python's versions,
    the processor and numba's settings. A JSON-able dict; raises if numba is not installed."""
    from importlib.metadata import version
    import platform

    with open(__file__, "rb") as f:
        source = hashlib.sha1(f.read()).hexdigest()
    stat = os.stat(__file__)
    return {
        "source": [os.path.abspath(__file__), source, stat.st_mtime_ns, stat.st_size],
        "numba": version("numba"),
        "llvmlite": version("llvmlite"),
        "python": [sys.executable, sys.version],
        "machine": [platform.machine(), platform.node()],
        "cpu": _cpu_identity(),
        "settings": sorted([name, value] for name, value in os.environ.items() if name.startswith("NUMBA_")),
    }


def _cache_files(cache_path):
    """numba's index and data files of this module's kernels in ``cache_path``: {path: [mtime_ns, size]}."""
    found = {}
    for name in os.listdir(cache_path):
        if name.startswith("kernel.") and name.endswith((".nbi", ".nbc")):
            path = os.path.join(cache_path, name)
            stat = os.stat(path)
            found[path] = [stat.st_mtime_ns, stat.st_size]
    return found


def _write_stamp():
    """After a build: record that numba's cache now holds every kernel, for this key.

    The next start that finds the same key and the same cache files, untouched, loads the
    kernels here at once instead of starting a child to check the cache first (which
    doubled a warm start's wait: a second interpreter importing numpy and numba and
    loading every kernel, before this process did the same). Best effort: without a
    stamp the next start simply takes the child's way.
    """
    try:
        jitted = [globals()[name] for name in (*_REDUCTIONS, *_LEAVES, *_DRIVERS, "_reduce")]
        paths = {f.stats.cache_path for f in jitted}
        if len(paths) != 1:
            return
        files = _cache_files(paths.pop())
        indexed = {os.path.basename(path).split("-")[0] for path in files if path.endswith(".nbi")}
        # every kernel compiled or loaded here (those Python calls; the ones compiled into them
        # too when they were compiled here) has its entry; else (a read-only cache, say) no stamp
        used = {f"kernel.{f.__name__}" for f in jitted if f.signatures}
        if not used or not used <= indexed:
            return
        stamp = {"key": _cache_key(), "files": files}
        path = _stamp_path()
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(stamp, f)
        os.replace(partial, path)
    except Exception:  # noqa: BLE001 - the stamp only saves time
        with contextlib.suppress(Exception):
            os.unlink(partial)


def _cache_known_good() -> bool:
    """Whether a build recorded that numba's cache holds every kernel for this source, numba,
    Python, processor and settings, and the cache files it saw are all still there, unchanged.

    Then loading them here takes about a second and compiles nothing. When numba itself
    rewrote an entry since (a kernel compiled again for some reason), a file changed and
    the answer is False: the child checks the cache first, as on the first start.
    """
    try:
        with open(_stamp_path(), encoding="utf-8") as f:
            stamp = json.load(f)
        if stamp["key"] != json.loads(json.dumps(_cache_key())) or not stamp["files"]:
            return False
        for path, (mtime_ns, size) in stamp["files"].items():
            stat = os.stat(path)
            if (stat.st_mtime_ns, stat.st_size) != (mtime_ns, size):
                return False
        return True
    except Exception:  # noqa: BLE001 - no stamp, another version's, a file gone: take the safe way
        return False


def _cache_lock():
    """An open descriptor holding an exclusive flock on :func:`_lock_path`, or None where there
    is no flock (Windows) or no writable temporary directory. Waits while another process holds
    it (it is filling the cache this process would fill), giving up if the interpreter exits."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fd = os.open(_lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if _stopping.wait(0.2):
                os.close(fd)
                raise _Stopped from None
        except OSError:
            os.close(fd)
            return None


def _fill_cache_in_child():
    """Compile in a child process, which leaves the kernels in numba's on-disk cache.

    A cold compile is 20-40 s of LLVM work that holds this process's GIL for long
    stretches: in a thread beside a window it starved the EM thread (measured: 4
    iterations in 15 s instead of 75 at 5 it/s). The child holds only its own GIL; this
    process then loads from the cache in about a second. If the child fails (no
    interpreter to start, a read-only cache), the build below compiles here as before.

    The child runs under the cache lock (it inherits the locked descriptor, so the lock
    lasts while either process lives): a dozen ``emviz fit`` started at once on a fresh
    install compile once, not a dozen times side by side. If this process exits first the
    child goes on and finishes the cache for the next start.
    """
    global _child
    code = "import emviz.kernel as k; k._build(); raise SystemExit(0 if k.ready() else 1)"
    fd = _cache_lock()
    try:
        _child = child = subprocess.Popen(
            [sys.executable, "-c", code], env={**os.environ, _CHILD: "1"}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=() if fd is None else (fd,),
        )
    except (OSError, subprocess.SubprocessError):
        if fd is not None:
            os.close(fd)
        return
    try:
        deadline = time.monotonic() + 900
        while child.poll() is None and time.monotonic() < deadline:
            if _stopping.wait(0.1):  # leave it running: it finishes the cache for the next start
                raise _Stopped
    finally:
        if fd is not None:
            os.close(fd)


def _build():
    """Import numba, compile (or load from the cache) and run every kernel once on tiny data."""
    global prange, _numba, _failure, _compile_seconds
    began = time.perf_counter()
    try:
        if not _enabled():
            raise RuntimeError("turned off by EMVIZ_NUMBA=0")
        if os.environ.get(_CHILD) != "1" and sys.executable and not _cache_known_good():
            _fill_cache_in_child()
        if _stopping.is_set():
            raise _Stopped
        _build_here()
        _write_stamp()
    except _Stopped:
        _failure = "the program exited before the kernel was ready"
    except Exception as exc:  # noqa: BLE001 - any failure means: keep the numpy path
        _failure = f"{type(exc).__name__}: {exc}"
    else:
        _compile_seconds = time.perf_counter() - began
        _built.set()
    finally:
        _finished.set()


def _build_here():
    global prange, _numba
    # numba's OpenMP threads would otherwise spin after every pass, taking the core a
    # window's GUI thread needs (measured: 4x the CPU time of a pass at n = 1e5 on a
    # busy 2-core machine). Set before numba loads OpenMP; a user's setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba

    _numba = numba
    options = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)
    namespace = globals()
    for name in _REDUCTIONS:
        namespace[name] = numba.njit(**{**options, "fastmath": {"reassoc"}})(namespace[name])
    for name in _LEAVES:
        namespace[name] = numba.njit(**options)(namespace[name])
    prange = numba.prange
    # prange only: numba would otherwise turn array expressions into parallel regions
    only_prange = dict(
        comprehension=False, prange=True, setitem=False, reduction=False,
        numpy=False, stencil=False, fusion=False, inplace_binop=False,
    )
    for name in _DRIVERS:
        namespace[name] = numba.njit(parallel=only_prange, **options)(namespace[name])
    namespace["_reduce"] = numba.njit(**options)(_reduce)
    rng = np.random.default_rng(0)
    for d in (1, 2, 3):  # the d = 2 path, the generic one and its 1-d corner
        X = rng.normal(size=(BLOCK + 3, d))
        means = X[:2].copy()
        prec_chol = np.broadcast_to(np.eye(d), (2, d, d)).copy()
        log_weights = np.log(np.full(2, 0.5))
        _statistics_pass(X, log_weights, means, prec_chol, means)
        _responsibilities_pass(X, log_weights, means, prec_chol)
        for hard in (False, True):
            _colours_pass(X, log_weights, means, prec_chol, _WARM_UP_RGB, hard)
    counts, sums = bin_colours(np.array([0, 2, 2], dtype=np.intp), np.array([0xFF0072B2] * 3, dtype=np.uint32), 4,
                               _warming=True)
    density_pixels(counts.reshape(2, 2), sums.reshape(3, 2, 2), 0.6, 0.1, _warming=True)


@atexit.register
def _stop_at_exit():
    """Let the build end before the interpreter does.

    Python stops a daemon thread wherever it is when the interpreter exits; inside
    numba's import or LLVM (C++) that can abort the whole process at exit ("terminate
    called without an active exception", exit 134) after the program's work was done.
    A build waiting for its child or for another process gives up at once; one already
    importing or loading numba here is waited for (about a second from the cache).
    """
    _stopping.set()
    if _thread is not None and _thread.is_alive():
        _thread.join(EXIT_WAIT)


def warm_up_in_background():
    """Start compiling (or loading from the cache) in a daemon thread; return at once.

    Calling it again does nothing. :func:`ready` tells when the kernels can be used.
    """
    global _thread
    global _failure
    with _lock:
        if _thread is not None or _finished.is_set():
            return
        if _stopping.is_set():  # too late: the interpreter is exiting
            _failure = "the program exited before the kernel was ready"
            _finished.set()
            return
        _thread = threading.Thread(target=_build, name="emviz-kernel-build", daemon=True)
        _thread.start()


def ready() -> bool:
    """True when the compiled kernels can be called without waiting. Never blocks."""
    return _built.is_set()


def wait(timeout=None) -> bool:
    """Start the build if needed and wait for it; True if the kernels are usable."""
    warm_up_in_background()
    _finished.wait(timeout)
    return _built.is_set()


def failure():
    """Why the kernels are not available (a sentence), or None."""
    return _failure


def compile_seconds():
    """Seconds the build took in this process (import, compile or cache load, first calls), or None."""
    return _compile_seconds


# --------------------------------------------------------------------------- public kernels


def _read_only(a):
    """A C-contiguous float64 read-only view (a copy only if a is not already C float64).

    numba compiles one version per array type, and read-only is part of the type: every
    input goes in read-only (gmm's mixtures are frozen), so the one version compiled in the
    background serves every call and no call ever waits for the compiler.
    """
    view = np.ascontiguousarray(a, dtype=np.float64).view()
    view.flags.writeable = False
    return view


def _prepare(X, log_weights, means, prec_chol):
    X = _read_only(X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got {X.shape}")
    log_weights = np.ascontiguousarray(log_weights, dtype=np.float64)
    means = _read_only(means)
    prec_chol = _read_only(prec_chol)
    n, d = X.shape
    k = log_weights.shape[0]
    if means.shape != (k, d) or prec_chol.shape != (k, d, d):
        raise ValueError(
            f"X {X.shape}, log_weights {log_weights.shape}, means {means.shape} and "
            f"prec_chol {prec_chol.shape} do not fit together as (n, d), (k,), (k, d), (k, d, d)"
        )
    log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    const = _read_only(log_weights - 0.5 * d * _LOG_2PI + log_det)
    return X, means, prec_chol, const


@contextlib.contextmanager
def _one_task_at_a_time():
    """Threads take tasks one by one, so a core busy with something else slows a pass
    by its share of the tasks, not by a fixed half of them (numba's static split)."""
    previous = _numba.set_parallel_chunksize(1)
    try:
        yield
    finally:
        _numba.set_parallel_chunksize(previous)


def _require():
    if not wait():
        raise RuntimeError(f"the compiled kernel is not available ({_failure})")


def _statistics_pass(X, log_weights, means, prec_chol, centers):
    X, means, prec_chol, const = _prepare(X, log_weights, means, prec_chol)
    centers = _read_only(centers)
    if centers.shape != means.shape:
        raise ValueError(f"centers must have the shape of means {means.shape}, got {centers.shape}")
    n_tasks = (X.shape[0] + TASK - 1) // TASK
    part_ll = np.zeros(n_tasks)
    part = np.zeros((n_tasks, means.shape[0], 1 + means.shape[1] + means.shape[1] * (means.shape[1] + 1) // 2))
    with _lock, _one_task_at_a_time():
        _statistics_tasks(X, means, prec_chol, centers, const, part_ll, part)
    return _reduce(part_ll, part, means.shape[0], means.shape[1])


def _responsibilities_pass(X, log_weights, means, prec_chol):
    X, means, prec_chol, const = _prepare(X, log_weights, means, prec_chol)
    resp = np.empty((X.shape[0], means.shape[0]))
    part_ll = np.zeros((X.shape[0] + TASK - 1) // TASK)
    with _lock, _one_task_at_a_time():
        _responsibilities_tasks(X, means, prec_chol, const, part_ll, resp)
    ll = 0.0
    for v in part_ll:  # task order, as in statistics_pass
        ll += float(v)
    return ll, resp


def _colours_pass(X, log_weights, means, prec_chol, rgb, hard):
    X, means, prec_chol, const = _prepare(X, log_weights, means, prec_chol)
    rgb = _read_only(rgb)
    if rgb.shape != (means.shape[0], 3):
        raise ValueError(f"rgb must have shape ({means.shape[0]}, 3), got {rgb.shape}")
    if not np.all((rgb >= 0) & (rgb <= 255) & (rgb == np.floor(rgb))):
        raise ValueError("rgb must hold whole numbers in 0..255")
    out = np.empty(X.shape[0], dtype=np.uint32)
    with _lock, _one_task_at_a_time():
        _colours_tasks(X, means, prec_chol, const, rgb, bool(hard), out)
    return out


_WARM_UP_RGB = np.array([[0.0, 114.0, 178.0], [213.0, 94.0, 0.0]])


def statistics_pass(X, log_weights, means, prec_chol, centers):
    """One fused E-step pass: log-likelihood and sufficient statistics.

    Parameters
    ----------
    X : array of shape (n, d)
    log_weights : array of shape (k,)
        May hold -inf (a component of weight 0).
    means : array of shape (k, d)
    prec_chol : array of shape (k, d, d)
        scikit-learn's ``precisions_cholesky_``: precision = P @ P.T, y = (x - mu) @ P.
    centers : array of shape (k, d)
        The statistics are taken about these points (each component's current mean).

    Returns
    -------
    ll_sum : float
        sum_i logsumexp_k log p_ik, with log p_ik = log_weights_k
        - 0.5 (d log 2 pi + ||(x_i - means_k) @ P_k||^2) + sum log diag P_k.
    nk : array of shape (k,)
        sum_i r_ik.
    s1 : array of shape (k, d)
        sum_i r_ik (x_i - centers_k).
    s2 : array of shape (k, d, d)
        sum_i r_ik (x_i - centers_k)(x_i - centers_k)^T, symmetric.

    Waits for the build if it is not done (:func:`ready` tells whether it would);
    RuntimeError if numba is not available.
    """
    _require()
    ll, nk, s1, s2 = _statistics_pass(X, log_weights, means, prec_chol, centers)
    return float(ll), nk, s1, s2


def responsibilities_pass(X, log_weights, means, prec_chol):
    """The E-step's log-likelihood sum and responsibilities, shape (n, k) (rows sum to 1).

    Same arguments and log-densities as :func:`statistics_pass`.
    """
    _require()
    return _responsibilities_pass(X, log_weights, means, prec_chol)


def colours_pass(X, log_weights, means, prec_chol, rgb, hard=False):
    """Each point's colour under the mixture, (n,) uint32 opaque ARGB32: gmm.mix_colours of
    its responsibilities, in one pass without an (n, k) array.

    Same arguments as :func:`responsibilities_pass`, plus ``rgb`` (k, 3), whole numbers in
    0..255, and ``hard`` (the most likely component's colour instead of the mix).
    """
    _require()
    return _colours_pass(X, log_weights, means, prec_chol, rgb, hard)


def bin_colours(flat, argb, size, *, _warming=False):
    """Points binned into ``size`` pixels: (counts (size,), sums of red, green, blue (3, size)).

    ``flat`` (m,) intp pixel index of every point, in 0..size-1; ``argb`` (m,) uint32 their
    colours. The same numbers as numpy's bincount (counts, and weighted by each channel), in
    one pass instead of four: the density image re-bins a million points at every colouring.
    """
    if not _warming:
        _require()
    flat = np.ascontiguousarray(flat, dtype=np.intp)
    argb = np.ascontiguousarray(argb, dtype=np.uint32)
    if flat.shape != argb.shape or flat.ndim != 1:
        raise ValueError(f"flat {flat.shape} and argb {argb.shape} must be two arrays of one length")
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        raise ValueError(f"pixel indices must lie in 0..{size - 1}")
    acc = np.zeros((size, 4))
    _bin_colours(flat, argb, acc)
    return acc[:, 0].copy(), np.ascontiguousarray(acc[:, 1:].T)


def leave_a_core() -> None:
    """Run this thread's compiled passes on one thread fewer than the machine has cores (at
    least one): the window's worker calls it, so EM never takes the core the GUI thread draws
    on. numba's thread count is per calling thread; nothing happens before the kernel is built."""
    if _numba is None or not _built.is_set():
        return
    wanted = max(1, min(_numba.config.NUMBA_NUM_THREADS, (os.cpu_count() or 1) - 1))
    if _numba.get_num_threads() != wanted:
        _numba.set_num_threads(wanted)


def density_pixels(counts, sums, light_sparse, light_dense, *, _warming=False):
    """The density image (h, w) opaque ARGB32 from its bins: ``counts`` (h, w) points per pixel
    and ``sums`` (3, h, w) of their red, green and blue (:func:`bin_colours`). Each pixel counts
    itself and its four neighbours; it shows their mean colour, lightened towards white by
    ``light_sparse`` where one point falls and by ``light_dense`` at the view's densest pixel
    (log scale). emviz.ui.pointdensity.density_image is the numpy reference.
    """
    if not _warming:
        _require()
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    sums = np.ascontiguousarray(sums, dtype=np.float64)
    if counts.ndim != 2 or sums.shape != (3,) + counts.shape:
        raise ValueError(f"counts (h, w) and sums (3, h, w) do not fit: {counts.shape}, {sums.shape}")
    image = np.empty(counts.shape, dtype=np.uint32)
    dense = math.log1p(float(counts.max())) if counts.size else 0.0
    _density_pixels(counts, sums, dense, float(light_sparse), float(light_dense), image)
    return image
