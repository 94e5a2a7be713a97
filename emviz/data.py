"""Data sets: generated mixtures, the built-in presets, and users' CSV files.

Every problem with a user's file raises :class:`DataError` whose message names
the file (and the line and column when there is one) and says what would fix it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from emviz.gmm import Mixture

__all__ = [
    "GENERATE",
    "PRESETS",
    "CsvTable",
    "DataError",
    "Dataset",
    "Preset",
    "generate",
    "load",
    "load_csv",
    "read_csv_table",
]

_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 200
# what pandas reads as missing by default, lower-cased; sniffing treats them as empty cells
_MISSING = {"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "<na>", "-1.#ind", "1.#qnan", "#na"}
_NUMBER = {
    ".": re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$", re.IGNORECASE),
    ",": re.compile(r"^[+-]?(\d+,?\d*|,\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$", re.IGNORECASE),
}
_DIALECTS = [  # (separator, decimal); separator None means runs of white space
    (",", "."),
    (";", "."),
    (";", ","),
    ("\t", "."),
    ("\t", ","),
    (None, "."),
    (None, ","),
    ("|", "."),
    ("|", ","),
]


class DataError(ValueError):
    """Bad input data: the message names the file, line and column, and says what to do."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points to fit, and what is known about them.

    Attributes
    ----------
    points : array of shape (n, d)
    columns : tuple of d column names
    name : short name for titles
    source : where the points came from (a path, or "preset", or "generated")
    labels : array of shape (n,) of true component indices, or None
    mixture : the true generating Mixture, or None
    dropped_rows : rows of the file left out for missing or non-numeric values
    dropped_example : where the first dropped row was and why, or ""
    recipe : how drawn points were drawn (n, seed, and true_k, separation for a
        generated mixture), so a window can show the settings that made them
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

    def __post_init__(self):
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

    def require_points(self, k: int) -> None:
        """Raise DataError when there are fewer (distinct) points than k components."""
        dropped = f" (after dropping {self.dropped_rows} incomplete rows)" if self.dropped_rows else ""
        if self.n < k:
            raise DataError(
                f"{self.source}: {self.n} points{dropped} are fewer than k={k} components; "
                "decrease k or use more data"
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


# --------------------------------------------------------------------------- generated data


def _sample(mixture: Mixture, n: int, rng, *, name: str, source: str, recipe: dict, columns=None) -> Dataset:
    counts = rng.multinomial(n, mixture.weights)
    labels = np.repeat(np.arange(mixture.k), counts)
    z = rng.standard_normal((n, mixture.d))
    chol = np.linalg.cholesky(mixture.covariances)
    points = mixture.means[labels] + np.einsum("nij,nj->ni", chol[labels], z)
    order = rng.permutation(n)
    if columns is None:
        columns = ("x", "y") if mixture.d == 2 else tuple(f"x{i + 1}" for i in range(mixture.d))
    return Dataset(points[order], columns, name, source, labels[order], mixture, recipe=recipe)


def _check_n(n):
    if int(n) != n or n < 1:
        raise ValueError(f"the number of points must be a positive integer, got {n!r}")
    return int(n)


def _check_seed(seed):
    if int(seed) != seed or seed < 0:
        raise ValueError(f"the data seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def generate(n: int = 500, k: int = 3, *, d: int = 2, separation: float = 3.0, seed: int = 0) -> Dataset:
    """Sample ``n`` points from a random ``k``-component mixture in ``d`` dimensions.

    Each component has a randomly rotated covariance with standard deviations
    between 0.5 and 1; ``separation`` is the smallest distance between two means
    in those units (about 1: heavy overlap; 4 and more: clearly apart).
    """
    n = _check_n(n)
    seed = _check_seed(seed)
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not (separation >= 0 and math.isfinite(separation)):
        raise ValueError(f"separation must be a finite number >= 0, got {separation!r}")
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 5.0))
    rotations = np.linalg.qr(rng.standard_normal((k, d, d)))[0]
    variances = rng.uniform(0.25, 1.0, size=(k, d))
    covariances = np.einsum("kij,kj,klj->kil", rotations, variances, rotations)
    covariances = (covariances + covariances.transpose(0, 2, 1)) / 2
    box = max(separation, 1e-9) * (1.0 + k ** (1.0 / d))
    best, best_gap = None, -1.0
    for _ in range(2000):  # rejection sampling for well-spread means
        means = rng.uniform(-box / 2, box / 2, size=(k, d))
        gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
        np.fill_diagonal(gaps, np.inf)
        gap = gaps.min()
        if gap > best_gap:
            best, best_gap = means, gap
        if gap >= separation:
            break
    mixture = Mixture(weights, best, covariances)
    name = f"generated: k={k}, separation {separation:g}, seed {seed}"
    recipe = {"n": n, "seed": seed, "true_k": int(k), "separation": float(separation)}
    return _sample(mixture, n, rng, name=name, source="generated", recipe=recipe)


@dataclass(frozen=True)
class Preset:
    """A built-in data set with a story to tell."""

    name: str
    description: str
    default_n: int | None  # None: a fixed data set
    make: Callable[[int, int], Dataset] = field(repr=False)
    # model settings the preset is meant to be shown with (the window applies them)
    suggested: dict = field(default_factory=dict)
    equal_axes: bool = True  # False when the columns are in different units

    def __call__(self, n: int | None = None, seed: int = 0) -> Dataset:
        return self.make(_check_n(n) if n is not None else self.default_n, _check_seed(seed))


def _asset(name):
    """A data file shipped inside the package (works from a wheel, not only a checkout)."""
    return resources.files("emviz").joinpath("assets", name)


def _rotated(sd_major, sd_minor, degrees):
    t = math.radians(degrees)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return r @ np.diag([sd_major**2, sd_minor**2]) @ r.T


def _mixture_preset(name, mixture):
    def make(n, seed):
        return _sample(mixture, n, np.random.default_rng(seed), name=name, source=f"preset '{name}'",
                       recipe={"n": n, "seed": seed})

    return make


def _article_mixture():
    table = json.loads(_asset("article_results.json").read_text(encoding="utf-8"))
    weights = np.asarray(table["weights"])
    return Mixture(weights / weights.sum(), table["means"], table["covariances"])


def _old_faithful(n, seed):
    with resources.as_file(_asset("old_faithful.csv")) as real_path:
        table = read_csv_table(real_path)
    dataset = table.dataset()
    return Dataset(
        dataset.points, dataset.columns, "old-faithful", "preset 'old-faithful'"
    )


def _presets():
    presets = [
        Preset(
            "article",
            "The article's three Gaussians (its Results table), roughly equal weights",
            600,
            lambda n, seed: _mixture_preset("article", _article_mixture())(n, seed),
            # the article's own run: random start, tolerance 1e-7 (seed 1 finds the article's
            # solution in 42 iterations; seeds 0 and 3 end in a local optimum)
            suggested={"k": 3, "init": "random", "tol": 1e-7, "seed": 1},
        ),
        Preset(
            "old-faithful",
            "Old Faithful geyser: eruption length (min) and waiting time (min), 272 eruptions",
            None,
            _old_faithful,
            suggested={"k": 2},
            equal_axes=False,
        ),
        Preset(
            "overlapping",
            "Three components that overlap heavily: EM needs many iterations to separate them",
            600,
            _mixture_preset(
                "overlapping",
                Mixture(
                    [0.35, 0.35, 0.3],
                    [[0.0, 0.0], [1.6, 0.6], [0.7, 1.7]],
                    [_rotated(0.9, 0.6, 20), _rotated(0.8, 0.6, -40), _rotated(0.7, 0.5, 80)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "elongated",
            "Long thin rotated clusters: full covariances fit, spherical ones cannot",
            600,
            _mixture_preset(
                "elongated",
                Mixture(
                    [0.34, 0.33, 0.33],
                    [[0.0, 0.0], [3.0, 3.5], [6.0, 0.5]],
                    [_rotated(2.2, 0.25, 35), _rotated(2.0, 0.2, -30), _rotated(1.8, 0.3, 85)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "unequal-weights",
            "A big cluster and two small ones (weights 0.80, 0.15, 0.05)",
            800,
            _mixture_preset(
                "unequal-weights",
                Mixture(
                    [0.80, 0.15, 0.05],
                    [[0.0, 0.0], [4.0, 1.5], [1.0, 4.5]],
                    [_rotated(1.4, 1.0, 10), _rotated(0.6, 0.4, 60), _rotated(0.4, 0.3, 0)],
                ),
            ),
            suggested={"k": 3},
        ),
        Preset(
            "cross",
            "Two clusters with the same mean crossing at right angles: k-means cannot split them, EM can",
            600,
            _mixture_preset(
                "cross",
                Mixture(
                    [0.5, 0.5],
                    [[0.0, 0.0], [0.0, 0.0]],
                    [_rotated(2.5, 0.3, 45), _rotated(2.5, 0.3, -45)],
                ),
            ),
            # seed 0 (and 5) of k-means++ starts one component on the crossing and ends in a
            # 0.94/0.06 local optimum; seed 1 separates the two arms in 14 iterations
            suggested={"k": 2, "seed": 1},
        ),
    ]
    return {p.name: p for p in presets}


PRESETS: dict[str, Preset] = _presets()


# --------------------------------------------------------------------------- CSV files


def _decode(raw: bytes, path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{path}: starts like UTF-16 text but cannot be decoded; save it as UTF-8 CSV") from None
    head = raw[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{path}: is a ZIP archive (an Excel .xlsx file?), not CSV text; save it as CSV")
    if b"\x00" in head:
        raise DataError(f"{path}: looks like a binary file, not CSV text; choose a .csv or .txt file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _split(line: str, sep):
    if sep is None:
        return line.split()
    return [cell.strip() for cell in next(csv.reader([line], delimiter=sep, skipinitialspace=True))]


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in _MISSING


def _is_number(cell: str, decimal: str) -> bool:
    return bool(_NUMBER[decimal].match(cell.strip()))


@dataclass
class _Dialect:
    sep: str | None
    decimal: str
    header: bool
    n_columns: int


def _sniff(lines: list[str], path) -> _Dialect:
    """Choose separator, decimal mark and header from the first lines."""
    body = lines[1:] if len(lines) > 1 else lines
    best_key, best = None, None
    for sep, decimal in _DIALECTS:
        rows = [_split(line, sep) for line in body]
        counts = [len(r) for r in rows]
        n_columns = max(set(counts), key=counts.count)
        consistency = counts.count(n_columns) / len(counts)
        full_rows = [r for r in rows if len(r) == n_columns]
        numeric_columns = 0
        numeric_cells = present_cells = 0
        for j in range(n_columns):
            cells = [r[j] for r in full_rows if not _is_missing(r[j])]
            numbers = sum(_is_number(c, decimal) for c in cells)
            numeric_cells += numbers
            present_cells += len(cells)
            if cells and numbers >= 0.5 * len(cells):
                numeric_columns += 1
        fraction = numeric_cells / present_cells if present_cells else 0.0
        # two numeric columns first: a decimal comma read as a separator, or the reverse, gives fewer
        key = (min(numeric_columns, 2), consistency >= 0.5, fraction, consistency, numeric_columns)
        if best_key is None or key > best_key:
            best_key, best = key, (sep, decimal, n_columns, full_rows)
    sep, decimal, n_columns, full_rows = best
    first = _split(lines[0], sep)
    numeric_in_body = []
    for j in range(n_columns):
        cells = [r[j] for r in full_rows if not _is_missing(r[j])]
        numeric_in_body.append(bool(cells) and sum(_is_number(c, decimal) for c in cells) >= 0.5 * len(cells))
    if len(lines) == 1:
        header = not all(_is_number(c, decimal) or _is_missing(c) for c in first)
    else:
        header = any(
            j < n_columns and numeric_in_body[j] and not _is_number(cell, decimal) and not _is_missing(cell)
            for j, cell in enumerate(first)
        ) or (not any(numeric_in_body) and not any(_is_number(c, decimal) for c in first))
    return _Dialect(sep, decimal, header, n_columns)


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed CSV file: every column, with the numeric ones converted to floats.

    Made by :func:`read_csv_table`; :meth:`dataset` picks the columns to fit.
    """

    path: str
    columns: tuple  # all column names, in file order
    numeric_columns: tuple  # the columns that hold numbers
    values: dict  # name -> float array (NaN where missing or not a number) for numeric columns
    raw: object  # the pandas DataFrame as read
    _line_of_row: Callable[[int], int] = field(repr=False)

    def resolve(self, columns) -> list:
        """Column names from names or 0-based positions (ints or digit strings)."""
        names = []
        lowered = {c.lower(): c for c in self.columns}
        for item in columns:
            if isinstance(item, str) and item in self.columns:
                name = item
            elif isinstance(item, str) and item.strip().lower() in lowered:
                name = lowered[item.strip().lower()]
            elif isinstance(item, (int, np.integer)) or (isinstance(item, str) and item.strip().isdigit()):
                index = int(item)
                if not 0 <= index < len(self.columns):
                    raise DataError(
                        f"{self.path}: there is no column {index}; columns are numbered 0 to {len(self.columns) - 1}"
                    )
                name = self.columns[index]
            else:
                raise DataError(
                    f"{self.path}: no column named {item!r}; the columns are: {', '.join(self.columns)}"
                )
            if name in names:
                raise DataError(f"{self.path}: column {name!r} is chosen twice; choose different columns")
            if name not in self.numeric_columns:
                first = next((str(v) for v in self.raw[name] if isinstance(v, str)), "")
                raise DataError(
                    f"{self.path}: column {name!r} holds text (e.g. {first!r}), not numbers; "
                    f"numeric columns: {', '.join(self.numeric_columns) or 'none'}"
                )
            names.append(name)
        return names

    def require_two_numeric(self) -> None:
        if len(self.numeric_columns) < 2:
            raise DataError(
                f"{self.path}: only one column holds numbers ({self.numeric_columns[0]!r}); emviz needs two, "
                "add a second numeric column or choose columns explicitly"
            )

    def plane(self, columns: Sequence | None = None) -> Dataset:
        """The two columns a window shows: the ones chosen, or the first two numeric ones."""
        if columns is None:
            self.require_two_numeric()
            columns = self.numeric_columns[:2]
        dataset = self.dataset(columns)
        if dataset.d != 2:
            raise DataError(
                f"{self.path}: the window shows two columns, {dataset.d} are chosen "
                f"({', '.join(dataset.columns)}); choose two"
            )
        return dataset

    def dataset(self, columns: Sequence | None = None, *, labels: str | None = None) -> Dataset:
        """The points of ``columns`` (default: every numeric column), incomplete rows dropped.

        ``labels`` names a column (text or numbers) whose values become the true labels.
        """
        if columns is None:
            names = list(self.numeric_columns)
            if labels in names:
                names.remove(labels)
        else:
            names = self.resolve(columns)
            if not names:
                raise DataError(f"{self.path}: no columns chosen")
        stacked = np.column_stack([self.values[name] for name in names])
        complete = np.isfinite(stacked).all(axis=1)
        truth = None
        if labels is not None:
            if labels not in self.columns:
                raise DataError(f"{self.path}: no column named {labels!r} for labels; the columns are: {', '.join(self.columns)}")
            import pandas as pd

            codes, _ = pd.factorize(self.raw[labels])
            complete &= codes >= 0
            truth = codes[complete]
        dropped = int((~complete).sum())
        if not complete.any():
            raise DataError(
                f"{self.path}: no row has a number in every one of the columns {', '.join(names)}; "
                "check the separator and the columns chosen"
            )
        example = ""
        if dropped:
            row = int(np.flatnonzero(~complete)[0])
            bad = next((j for j in range(len(names)) if not np.isfinite(stacked[row, j])), 0)
            value = self.raw[names[bad]].iloc[row] if names else ""
            shown = "empty" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(str(value))
            example = f"line {self._line_of_row(row)}, column {names[bad]!r}: {shown}"
        return Dataset(
            stacked[complete],
            tuple(names),
            Path(self.path).name,
            str(self.path),
            truth,
            None,
            dropped,
            example,
        )


def read_csv_table(path) -> CsvTable:
    """Read a CSV file of any common dialect; raise DataError with the line and column on failure."""
    import pandas as pd

    path = str(path)
    try:
        raw_bytes = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    text = _decode(raw_bytes, path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _blank_leading_comments(text)
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # never sniff a cut-off last line
    lines = [line for line in sample.split("\n") if line.strip()][:_SNIFF_LINES]
    if not lines:
        raise DataError(f"{path}: the file is empty; it needs a row per point and a column per coordinate")
    dialect = _sniff(lines, path)
    options = dict(
        sep=r"\s+" if dialect.sep is None else dialect.sep,
        decimal=dialect.decimal,
        header=0 if dialect.header else None,
        skipinitialspace=True,
        skip_blank_lines=True,
        engine="c",
    )
    if dialect.sep is not None:
        options["quotechar"] = '"'
    try:
        frame = pd.read_csv(io.StringIO(text), **options)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: {_explain_parser_error(str(exc), dialect)}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file has a header but no data rows") from None
    except (ValueError, UnicodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc})") from None
    if not dialect.header:
        frame.columns = [f"x{i}" for i in range(frame.shape[1])]
    frame.columns = _unique_names([str(c).strip() for c in frame.columns])
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    values = {}
    for name in frame.columns:
        converted = _numeric(frame[name], dialect.decimal)
        if converted is not None:
            values[name] = converted
    numeric = tuple(values)
    table = CsvTable(
        path, tuple(frame.columns), numeric, values, frame, _line_finder(text, dialect.header)
    )
    if not numeric:
        raise DataError(
            f"{path}: no column holds numbers (columns: {', '.join(frame.columns)}); "
            "emviz needs at least two numeric columns"
        )
    return table


def _blank_leading_comments(text: str) -> str:
    """Empty the '#' comment lines before the table (instruments and R write them).

    They become blank lines, which the parser skips, so every line number in a
    message still counts the file's own lines.
    """
    if not text.lstrip().startswith("#"):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        lines[i] = ""
    return "\n".join(lines)


def _unique_names(names):
    seen = {}
    out = []
    for name in names:
        name = name or "unnamed"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _numeric(series, decimal):
    """Float array of a column, or None if it holds text (most cells not numbers)."""
    import pandas as pd

    if series.dtype.kind in "fiub":
        return series.to_numpy(dtype=np.float64)
    as_text = series.astype("string").str.strip()
    if decimal == ",":
        as_text = as_text.str.replace(",", ".", regex=False)
    converted = pd.to_numeric(as_text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    present = series.notna().to_numpy()
    if present.sum() == 0 or np.isfinite(converted).sum() + np.isinf(converted).sum() < 0.5 * present.sum():
        return None
    return converted


def _line_finder(text, header):
    """Row index -> 1-based line number in the file (blank lines are skipped by the parser)."""
    cache = {}

    def line_of(row):
        if "lines" not in cache:
            cache["lines"] = [i + 1 for i, line in enumerate(text.split("\n")) if line.strip()]
        lines = cache["lines"]
        index = row + (1 if header else 0)
        return lines[index] if index < len(lines) else index + 1

    return line_of


def _explain_parser_error(message, dialect):
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    sep = {None: "white space", "\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[dialect.sep]
    if match:
        expected, line, saw = match.groups()
        what = "the header has" if dialect.header else "the first row has"
        return (
            f"line {line} has {saw} fields but {what} {expected} (separator: {sep}); "
            "fix that row or quote the text that contains the separator"
        )
    return f"cannot be read as CSV with separator {sep}: {message.strip()}"


def load_csv(path, columns: Sequence | None = None, *, labels: str | None = None) -> Dataset:
    """Load points from a CSV file.

    Parameters
    ----------
    path : str or Path
    columns : names or 0-based positions of the columns to use; default every numeric column
        (at least two are needed then).
    labels : optional name of a column holding true class labels.

    Separator (comma, semicolon, tab, white space), decimal mark, header,
    encoding (UTF-8 with or without BOM, UTF-16 with BOM, Latin-1) and line ends
    are detected. Rows with a missing, non-numeric or infinite value in a chosen
    column are dropped and counted in ``Dataset.dropped_rows``.
    """
    table = read_csv_table(path)
    if columns is None:
        table.require_two_numeric()
    return table.dataset(columns, labels=labels)


GENERATE = "generate"  # the source name that draws a random mixture, as the window's Generate does


def load(
    source,
    columns: Sequence | None = None,
    *,
    n: int | None = None,
    seed: int = 0,
    true_k: int = 3,
    separation: float = 3.0,
) -> Dataset:
    """A preset by name, a random mixture ("generate"), or a CSV file by path.

    What the command line and the window accept; ``n`` and ``seed`` draw the points
    of a preset or of "generate", ``true_k`` and ``separation`` shape the latter.
    """
    source = str(source)
    if not Path(source).exists() and source in (*PRESETS, GENERATE):
        if columns is not None:
            raise DataError(f"{source}: --columns applies to CSV files only")
        if source == GENERATE:
            return generate(500 if n is None else n, true_k, separation=separation, seed=seed)
        return PRESETS[source](n, seed)
    if not Path(source).exists() and not any(ch in source for ch in "/\\."):
        raise DataError(
            f"{source}: no such file or preset; presets are: {', '.join(PRESETS)}, or '{GENERATE}' for a random mixture"
        )
    return load_csv(source, columns)
