"""The data model: :class:`Dataset` (points and where they came from) and :class:`DataError`.

Also the size limits every data source checks before it allocates, so that a
mistyped number ends in a message instead of the kernel killing the process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emviz.gmm import Mixture

ORIGINS = ("preset", "csv", "generated", "drawn")

# Sizes checked before anything is allocated. Each limit says why in its message.
MAX_POINTS = 10_000_000  # drawn points: 10 million 2-d points already take ~1 GB while fitted
MAX_COMPONENTS = 1_000  # components of a drawn mixture or a fit
MAX_FIT_COLUMNS = 100  # a full covariance has d^2 entries and every point d^2 / 2 features
MAX_SEPARATION = 1e6  # standard deviations between drawn means; beyond, float64 rounds the clusters away
FIT_MEMORY_BYTES = 4 << 30  # working memory of a fit: the centred features and the responsibilities


class DataError(ValueError):
    """Bad input data: the message names the file, line and column, and says what to do."""


def quote(value, limit: int = 40) -> str:
    """``repr`` of a cell or a name, cut to about ``limit`` characters (a 10 MB cell is never echoed)."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({_size(len(text))} in all)"


def _size(n_characters: int) -> str:
    if n_characters < 10_000:
        return f"{n_characters} characters"
    if n_characters < 10_000_000:
        return f"{n_characters / 1e3:.0f} thousand characters"
    return f"{n_characters / 1e6:.0f} million characters"


def fit_memory(n: int, d: int, k: int) -> int:
    """Bytes a fit of ``n`` points in ``d`` columns with ``k`` components keeps in memory.

    The engine holds the centred features ``[1, x, x x^T]`` of every point, and the
    window the responsibilities (n, k) of every point.
    """
    n_features = 1 + d + d * (d + 1) // 2
    return 8 * (n * (n_features + k) + 3 * k * d * d)


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GB"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points to fit, and what is known about them.

    Attributes
    ----------
    points : array of shape (n, d)
    columns : tuple of d column names
    name : short name for titles; the preset's name for a preset, the file's name for a CSV file
    source : where the points came from, for messages (a path, "preset 'name'", "generated")
    labels : array of shape (n,) of true component indices, or None
    mixture : the true generating Mixture, or None
    dropped_rows : rows of the file left out for missing or non-numeric values
    dropped_example : where the first dropped row was and why, or ""
    recipe : how drawn points were drawn (n, seed, and true_k, separation for a
        generated mixture), so a window can show the settings that made them
    origin : what kind of source made the points, one of ``ORIGINS``: "preset",
        "csv", "generated" (a random mixture) or "drawn" (by hand); read it
        instead of parsing ``source``
    """

    points: np.ndarray
    columns: tuple
    name: str
    source: str = "generated"
    labels: np.ndarray | None = None
    mixture: Mixture | None = None
    dropped_rows: int = 0
    dropped_example: str = ""
    recipe: dict = field(default_factory=dict)
    origin: str = "generated"

    def __post_init__(self):
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got {self.origin!r}")
        points = np.array(self.points, dtype=np.float64, copy=True)
        if points.ndim != 2 or points.shape[0] == 0:
            raise DataError(f"{self.source}: no data points")
        if len(self.columns) != points.shape[1]:
            raise ValueError(f"{len(self.columns)} column names for {points.shape[1]} columns")
        points.setflags(write=False)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "columns", tuple(self.columns))
        if self.labels is not None:
            labels = np.array(self.labels, dtype=np.intp, copy=True)
            labels.setflags(write=False)
            object.__setattr__(self, "labels", labels)

    @property
    def n(self) -> int:
        return self.points.shape[0]

    @property
    def d(self) -> int:
        return self.points.shape[1]

    @property
    def preset(self) -> str | None:
        """The name of the preset the points were drawn from, or None for any other origin."""
        return self.name if self.origin == "preset" else None

    def require_points(self, k: int) -> None:
        """Raise DataError when there are fewer points than k components, or the fit would not fit in memory."""
        dropped = f" (after dropping {self.dropped_rows} incomplete rows)" if self.dropped_rows else ""
        if k > MAX_COMPONENTS:
            raise DataError(
                f"{self.source}: k={k} components is more than emviz fits ({MAX_COMPONENTS}); decrease k"
            )
        if self.n < k:
            raise DataError(
                f"{self.source}: {self.n} points{dropped} are fewer than k={k} components; "
                "decrease k or use more data"
            )
        if self.d > MAX_FIT_COLUMNS:
            raise DataError(
                f"{self.source}: {self.d} columns are more than emviz fits at once ({MAX_FIT_COLUMNS}: "
                "a full covariance has d² entries); choose the columns to fit with --columns"
            )
        need = fit_memory(self.n, self.d, k)
        if need > FIT_MEMORY_BYTES:
            raise DataError(
                f"{self.source}: fitting {self.n} points in {self.d} columns with k={k} needs about "
                f"{_gigabytes(need)} of memory, more than the {_gigabytes(FIT_MEMORY_BYTES)} emviz allows itself; "
                "choose fewer columns (--columns) or fewer points"
            )

    def dropped_message(self) -> str:
        """One sentence for the user about dropped rows, or "" when none were dropped."""
        if not self.dropped_rows:
            return ""
        rows = "row" if self.dropped_rows == 1 else "rows"
        return (
            f"{self.source}: dropped {self.dropped_rows} {rows} with missing, non-numeric or "
            f"infinite values (first: {self.dropped_example})"
        )


def check_count(n, what: str = "the number of points", limit: int = MAX_POINTS, why: str = "") -> int:
    """``n`` as an int in 1..limit, or ValueError saying the limit and why."""
    if isinstance(n, float) and not math.isfinite(n) or int(n) != n or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    if n > limit:
        raise ValueError(f"{what} is at most {limit:,}{why}, got {int(n):,}")
    return int(n)


def check_seed(seed) -> int:
    if int(seed) != seed or seed < 0:
        raise ValueError(f"the data seed must be an integer >= 0, got {seed!r}")
    return int(seed)
