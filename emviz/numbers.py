"""Numbers for people: as many digits as the spread of the data makes meaningful.

Qt-free and pure, shared by the command line's table and the window's parameter table.
A mean of 1e9 with a spread of 1e-3 needs its millionths; a covariance of 1e-6
must not print as 0.
"""

from __future__ import annotations

import math

import numpy as np

_FLOAT_DIGITS = 16  # float64 holds 15-17 significant decimal digits


def format_for_spread(values, spread: float, digits: int = 4) -> list[str]:
    """Format ``values`` so that differences of about ``spread`` show with ``digits`` significant digits.

    Parameters
    ----------
    values : array-like of floats (any shape; formatted flat, in order)
    spread : the scale of the differences that matter (a standard deviation, the
        largest entry of a covariance matrix); 0, NaN or inf mean "the values' own size"
    digits : significant digits of the spread that are shown

    Returns
    -------
    list of str, one per value, all with the same number of decimals (fixed
    notation) or the same exponent style (scientific notation, for magnitudes
    below 1e-4 or from 1e15 up)
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    finite = flat[np.isfinite(flat)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    spread = abs(float(spread))
    if not (math.isfinite(spread) and spread > 0):
        spread = largest
    biggest = max(largest, spread)
    if biggest == 0.0:
        return [_plain(v, f"{v:.{max(digits - 1, 0)}f}") for v in flat]
    lead = math.floor(math.log10(biggest))
    step = math.floor(math.log10(spread)) - (digits - 1)
    step = max(step, lead - _FLOAT_DIGITS)  # no digits beyond what float64 holds
    if -4 <= lead < 15:
        decimals = max(0, -step)
        return [_plain(v, f"{v:.{decimals}f}") for v in flat]
    mantissa = max(lead - step, 0)
    return [_plain(v, f"{v:.{mantissa}e}") for v in flat]


def _plain(value: float, text: str) -> str:
    """Keep the formatted text, but write a negative zero as zero."""
    if value == 0.0 or text.lstrip("-").strip("0.e+") == "":
        return text.lstrip("-")
    return text


def format_matrix(values, spread: float, digits: int = 4) -> str:
    """A vector or matrix as ``[a, b]`` / ``[[a, b], [c, d]]`` with :func:`format_for_spread`."""
    array = np.asarray(values, dtype=np.float64)
    cells = iter(format_for_spread(array, spread, digits))
    width = max((len(c) for c in format_for_spread(array, spread, digits)), default=0)

    def nest(shape):
        if not shape:
            return next(cells).rjust(width)
        return "[" + ", ".join(nest(shape[1:]) for _ in range(shape[0])) + "]"

    return nest(array.shape)
