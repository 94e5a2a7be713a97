"""Users' CSV files: any common dialect, read exactly, with messages that name file, line and column.

Only regular files are read, and only up to a size cap (``EMVIZ_MAX_CSV_MB``, or
``--max-csv-mb`` on the command line), so a FIFO, a device or a huge file ends
in a message, not in a hang or the kernel killing the process.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from emviz.data.dataset import DataError, Dataset, quote

_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 200
_SNIFF_CELLS = 20_000
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

MAX_CSV_ENV = "EMVIZ_MAX_CSV_MB"
DEFAULT_MAX_CSV_MB = 512  # pandas needs a few times the file's size while it parses
MAX_CSV_COLUMNS = 10_000


def max_csv_bytes() -> int:
    """The largest CSV file read, in bytes: ``EMVIZ_MAX_CSV_MB`` megabytes (default 512)."""
    text = os.environ.get(MAX_CSV_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_CSV_MB * 10**6
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise DataError(f"{MAX_CSV_ENV}={quote(text)} is not a positive number of megabytes")
    return int(min(megabytes, 1e12) * 10**6)


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
    try:
        cells = next(csv.reader([line], delimiter=sep, skipinitialspace=True), [])
    except csv.Error:  # Python 3.10's csv refuses NUL characters; pandas will say what is wrong
        cells = line.split(sep)
    return [cell.strip() for cell in cells]


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
    _lines: "_Lines" = field(repr=False)

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
                    f"{self.path}: no column named {quote(item)}; the columns are: {_listed(self.columns)}"
                )
            if name in names:
                raise DataError(f"{self.path}: column {quote(name)} is chosen twice; choose different columns")
            if name not in self.numeric_columns:
                first = next((str(v) for v in self.raw[name] if isinstance(v, str)), "")
                raise DataError(
                    f"{self.path}: column {quote(name)} holds text (e.g. {quote(first)}), not numbers; "
                    f"numeric columns: {_listed(self.numeric_columns) or 'none'}"
                )
            names.append(name)
        return names

    def require_two_numeric(self) -> None:
        if len(self.numeric_columns) < 2:
            raise DataError(
                f"{self.path}: only one column holds numbers ({quote(self.numeric_columns[0])}); emviz needs two, "
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
                f"({_listed(dataset.columns)}); choose two"
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
        stacked = np.empty((len(self.raw), len(names)))
        for j, name in enumerate(names):
            stacked[:, j] = self.values[name]
        complete = np.isfinite(stacked).all(axis=1)
        truth = None
        if labels is not None:
            if labels not in self.columns:
                raise DataError(f"{self.path}: no column named {quote(labels)} for labels; the columns are: {_listed(self.columns)}")
            import pandas as pd

            codes, _ = pd.factorize(self.raw[labels])
            complete &= codes >= 0
            truth = codes[complete]
        dropped = int((~complete).sum())
        if not complete.any():
            raise DataError(
                f"{self.path}: no row has a number in every one of the columns {_listed(names)}; "
                "check the separator and the columns chosen"
            )
        example = ""
        if dropped:
            row = int(np.flatnonzero(~complete)[0])
            bad = next((j for j in range(len(names)) if not np.isfinite(stacked[row, j])), 0)
            # the cell as written ('NA', 'n/a', '-', 'inf'), not as pandas read it
            cell = self._lines.cell(row, self.columns.index(names[bad]))
            if cell is None:
                value = self.raw[names[bad]].iloc[row]
                cell = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            shown = "empty" if not cell.strip() else quote(cell)
            example = f"line {self._lines.number(row)}, column {quote(names[bad])}: {shown}"
        return Dataset(
            stacked if not dropped else stacked[complete],
            tuple(names),
            Path(self.path).name,
            str(self.path),
            truth,
            None,
            dropped,
            example,
            origin="csv",
        )


@dataclass(frozen=True)
class ReadProgress:
    """How far :func:`iter_csv_table` has got: ``done`` of ``total`` in ``phase``.

    ``phase`` is "reading" (bytes read from the disk), "parsing" (bytes the parser has
    taken in) or "checking" (columns converted to numbers and checked).
    """

    phase: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """The share of the whole load done, 0 to 1 (reading, parsing, checking: about their usual times)."""
        share = self.done / self.total if self.total else 1.0
        start, width = _PHASES[self.phase]
        return start + width * share


_PHASES = {"reading": (0.0, 0.05), "parsing": (0.05, 0.85), "checking": (0.9, 0.1)}


READ_CHUNK_BYTES = 4 << 20  # read from the disk in pieces of this size
PARSE_CHUNK_ROWS = 1 << 16  # and parsed in pieces of this many rows, between which a reader may stop


def read_csv_table(path, *, max_bytes: int | None = None) -> CsvTable:
    """Read a CSV file of any common dialect; raise DataError with the line and column on failure.

    ``max_bytes`` caps the file's size (default: :func:`max_csv_bytes`).
    """
    for item in iter_csv_table(path, max_bytes=max_bytes):
        pass
    return item


def iter_csv_table(path, *, max_bytes: int | None = None, chunk_rows: int | None = None,
                   chunk_bytes: int | None = None):
    """Read a CSV file like :func:`read_csv_table`, piece by piece.

    Yields :class:`ReadProgress` items as the file is read and parsed, then the
    :class:`CsvTable` as the last item. A caller that stops pulling (Cancel) simply
    drops the generator: nothing outside it has changed. Raises DataError as
    :func:`read_csv_table` does.
    """
    path = str(path)
    raw = yield from _read_regular_file(path, max_bytes, chunk_bytes or READ_CHUNK_BYTES)
    data = _utf8(raw, path)  # the file as UTF-8 bytes, lines ending in "\n" only
    del raw
    data = _blank_leading_comments(data)
    total = len(data)
    sample = data[:_SNIFF_BYTES]
    if len(data) > _SNIFF_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]  # never sniff a cut-off last line
    sample = sample.decode("utf-8", errors="replace")
    numbered = [(i + 1, line) for i, line in enumerate(sample.split("\n")) if line.strip()][:_SNIFF_LINES]
    if not numbered:
        raise DataError(f"{path}: the file is empty; it needs a row per point and a column per coordinate")
    widest = max(_check_width(line, number, path) for number, line in numbered)
    # sniffing tries every dialect on every cell: keep the cells tried bounded for wide tables
    lines = [line for _, line in numbered][: max(2, _SNIFF_CELLS // widest)]
    dialect = _sniff(lines, path)
    yield ReadProgress("parsing", 0, total)  # the parser starts (the first import of pandas takes a while)
    import pandas as pd  # here, not before: the first import takes a while, the reading shows progress

    options = dict(
        sep=r"\s+" if dialect.sep is None else dialect.sep,
        decimal=dialect.decimal,
        header=0 if dialect.header else None,
        skipinitialspace=True,
        skip_blank_lines=True,
        engine="c",
        encoding="utf-8",
        low_memory=False,  # the pieces are ours: a column keeps one type within each
        chunksize=chunk_rows or PARSE_CHUNK_ROWS,
    )
    if int(pd.__version__.split(".")[0]) < 3:  # pandas 2's default converter changes the last bits
        options["float_precision"] = "round_trip"  # pandas 3 reads exactly, and deprecates the option
        # pandas 2's C parser, reading in pieces, cuts a line with too many fields to the
        # header's width without a word (2.3.3: "1,2,3" under "x,y" became x=1, y=2); read
        # at once it refuses the line. So pandas 2 parses in one piece (no parsing progress).
        options["chunksize"] = None
    if dialect.sep is not None:
        options["quotechar"] = '"'
    source = io.BytesIO(data)
    pieces = []
    try:
        if options["chunksize"] is None:
            pieces.append(pd.read_csv(source, **options))
            yield ReadProgress("parsing", total, total)
        else:
            with pd.read_csv(source, **options) as reader:
                for piece in reader:
                    pieces.append(piece)
                    yield ReadProgress("parsing", min(source.tell(), total), total)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: {_explain_parser_error(str(exc), dialect)}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file has a header but no data rows") from None
    except (ValueError, UnicodeError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({_shortened(str(exc))})") from None
    if not pieces:
        raise DataError(f"{path}: the file has a header but no data rows")
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    del pieces
    if frame.shape[1] > MAX_CSV_COLUMNS:
        raise DataError(_too_wide(path, "the table"))
    if not dialect.header:
        frame.columns = [f"x{i}" for i in range(frame.shape[1])]
    frame.columns = _unique_names([str(c).strip() for c in frame.columns])
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no data rows")
    values = {}
    for j, name in enumerate(frame.columns):
        converted = _numeric(frame[name], dialect.decimal)
        if converted is not None:
            values[name] = converted
        yield ReadProgress("checking", j + 1, len(frame.columns))
    numeric = tuple(values)
    table = CsvTable(
        path, tuple(frame.columns), numeric, values, frame, _Lines(data, dialect)
    )
    if not numeric:
        raise DataError(
            f"{path}: no column holds numbers (columns: {_listed(frame.columns)}); "
            "emviz needs at least two numeric columns"
        )
    yield table


def _read_regular_file(path: str, max_bytes: int | None, chunk_bytes: int = READ_CHUNK_BYTES):
    """The bytes of a regular file no larger than the cap; a FIFO or a device would block or never end.

    A generator: yields a :class:`ReadProgress` after each piece read and returns the bytes.
    """
    limit = max_csv_bytes() if max_bytes is None else max_bytes
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path}: is a folder, not a CSV file")
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a device or special file"
        raise DataError(f"{path}: is {kind}, not a regular file; save the data to a file and open that")
    too_big = (
        f"{path}: the file is larger than {limit / 1e6:g} MB, the most emviz reads by default; "
        f"set {MAX_CSV_ENV} (or --max-csv-mb) to a larger number of megabytes if memory allows"
    )
    if info.st_size > limit:
        raise DataError(too_big)
    pieces, size = [], 0
    try:
        with open(path, "rb") as file:
            while size <= limit:
                piece = file.read(min(chunk_bytes, limit + 1 - size))
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
                yield ReadProgress("reading", size, max(info.st_size, size))
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size > limit:  # it grew since stat
        raise DataError(too_big)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _utf8(raw: bytes, path) -> bytes:
    """The file's text as UTF-8 bytes with "\n" line ends, for the parser; DataError for binary files."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = _decode(raw, path).encode("utf-8")
    else:
        _decode(raw[:8192], path)  # a ZIP archive or a binary file is refused here
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            if not raw.isascii():
                raw.decode("utf-8")
            data = raw
        except UnicodeDecodeError:
            data = raw.decode("latin-1").encode("utf-8")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def _check_width(line: str, number: int, path) -> int:
    """The most columns ``line`` can have; DataError when more than MAX_CSV_COLUMNS."""
    widest = max(len(line.split()), *(line.count(sep) + 1 for sep in (",", ";", "\t", "|")))
    if widest > MAX_CSV_COLUMNS:
        raise DataError(_too_wide(path, f"line {number}"))
    return widest


def _too_wide(path, where: str) -> str:
    return (
        f"{path}: {where} has more than {MAX_CSV_COLUMNS:,} columns, the most emviz reads "
        "(every column is sniffed and converted); save the columns to fit in a narrower file"
    )


def _blank_leading_comments(data: bytes) -> bytes:
    """Empty the '#' comment lines before the table (instruments and R write them).

    They become blank lines, which the parser skips, so every line number in a
    message still counts the file's own lines.
    """
    if not data.lstrip().startswith(b"#"):
        return data
    end = 0  # where the first line of the table begins
    blanked = 0
    while end < len(data):
        stop = data.find(b"\n", end)
        stop = len(data) if stop < 0 else stop
        stripped = data[end:stop].strip()
        if stripped and not stripped.startswith(b"#"):
            break
        blanked += 1
        end = stop + 1
    return b"\n" * blanked + data[end:]


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
    # a column with some text in it: convert every cell at once, then look again, cell by
    # cell, only at those that did not read as numbers (padded, or with a decimal comma)
    converted = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    present = series.notna().to_numpy()
    again = np.flatnonzero(present & np.isnan(converted))
    if len(again):
        as_text = series.iloc[again].astype("string").str.strip()
        if decimal == ",":
            as_text = as_text.str.replace(",", ".", regex=False)
        converted[again] = pd.to_numeric(as_text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if present.sum() == 0 or np.isfinite(converted).sum() + np.isinf(converted).sum() < 0.5 * present.sum():
        return None
    return converted


def _shortened(text: str, most: int = 200) -> str:
    return text if len(text) <= most else text[:most] + "..."


def _listed(names, most: int = 12) -> str:
    """Column names for a message: each shortened, at most ``most`` of them."""
    shown = [name if len(name) <= 40 else quote(name) for name in map(str, names[:most])]
    more = f", ... ({len(names)} in all)" if len(names) > most else ""
    return ", ".join(shown) + more


_WHITE = b" \t\v\f"


class _Lines:
    """Row index -> the file's line: its 1-based number and its cells (the parser skips blank lines).

    Holds the file as UTF-8 bytes; where its lines begin is found only when a message needs it.
    """

    def __init__(self, data: bytes, dialect: "_Dialect"):
        self._data = data
        self._dialect = dialect
        self._starts = None  # offset of every line's first byte, and one past the end
        self._numbers = None  # 0-based index of every line that is not blank

    def _index(self, row: int) -> int:
        if self._numbers is None:
            self._find_lines()
        return row + (1 if self._dialect.header else 0)

    def _find_lines(self):
        data = self._data
        newlines = [
            np.flatnonzero(np.frombuffer(data, np.uint8, min(_LINE_BLOCK, len(data) - offset), offset) == 10) + offset
            for offset in range(0, len(data), _LINE_BLOCK)
        ]
        newlines = np.concatenate([np.zeros(0, np.int64), *newlines])
        starts = np.concatenate([[0], newlines + 1, [len(data) + 1]])
        lengths = np.diff(starts) - 1
        blank = lengths == 0
        # lines that begin with white space may hold nothing else: look at those one by one
        first = np.frombuffer(data, np.uint8)[np.minimum(starts[:-1], max(len(data) - 1, 0))] if data else starts[:0]
        for i in np.flatnonzero(~blank & np.isin(first, np.frombuffer(_WHITE, np.uint8))):
            blank[i] = not data[starts[i]: starts[i] + lengths[i]].strip()
        self._starts, self._numbers = starts, np.flatnonzero(~blank)

    def number(self, row: int) -> int:
        index = self._index(row)
        return int(self._numbers[index]) + 1 if index < len(self._numbers) else index + 1

    def cell(self, row: int, column: int) -> str | None:
        """The text of one cell as written in the file, or None when the line cannot be found."""
        index = self._index(row)
        if index >= len(self._numbers):
            return None
        line_index = self._numbers[index]
        line = self._data[self._starts[line_index]: self._starts[line_index + 1] - 1]
        cells = _split(line.decode("utf-8", errors="replace"), self._dialect.sep)
        return cells[column] if column < len(cells) else None


_LINE_BLOCK = 16 << 20


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
    return f"cannot be read as CSV with separator {sep}: {_shortened(message.strip())}"


def load_csv(path, columns: Sequence | None = None, *, labels: str | None = None,
             max_bytes: int | None = None) -> Dataset:
    """Load points from a CSV file.

    Parameters
    ----------
    path : str or Path
    columns : names or 0-based positions of the columns to use; default every numeric column
        (at least two are needed then).
    labels : optional name of a column holding true class labels.
    max_bytes : the largest file read (default: ``EMVIZ_MAX_CSV_MB`` megabytes, else 512 MB).

    Separator (comma, semicolon, tab, white space), decimal mark, header,
    encoding (UTF-8 with or without BOM, UTF-16 with BOM, Latin-1) and line ends
    are detected. Rows with a missing, non-numeric or infinite value in a chosen
    column are dropped and counted in ``Dataset.dropped_rows``.
    """
    table = read_csv_table(path, max_bytes=max_bytes)
    if columns is None:
        table.require_two_numeric()
    return table.dataset(columns, labels=labels)
