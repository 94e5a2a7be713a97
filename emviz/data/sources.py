"""One name for any data: a preset, a random mixture ("generate") or a CSV file's path."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from emviz.data.csvfile import load_csv
from emviz.data.dataset import DataError, Dataset
from emviz.data.presets import GENERATE, PRESETS, generate


def is_drawn(source) -> bool:
    """True when ``source`` names a preset or "generate" (and no file of that name exists)."""
    source = str(source)
    return source in (*PRESETS, GENERATE) and not Path(source).exists()


def load(
    source,
    columns: Sequence | None = None,
    *,
    n: int | None = None,
    seed: int | None = None,
    true_k: int | None = None,
    separation: float | None = None,
) -> Dataset:
    """A preset by name, a random mixture ("generate"), or a CSV file by path.

    What the command line and the window accept; ``n`` and ``seed`` draw the points
    of a preset or of "generate" (default: the preset's own number, 500; seed 0),
    ``true_k`` and ``separation`` shape the latter (default 3 and 3). Any of them
    given for a source they do not apply to is an error, not silently ignored.
    """
    source = str(source)
    if not source.strip():
        raise DataError(
            f"the data source is empty; give a CSV file, a preset ({', '.join(PRESETS)}) or '{GENERATE}'"
        )
    given = {"--points": n, "--data-seed": seed, "--true-k": true_k, "--separation": separation}
    if is_drawn(source):
        if columns is not None:
            raise DataError(f"{source}: --columns applies to CSV files only")
        if source == GENERATE:
            return generate(
                500 if n is None else n,
                3 if true_k is None else true_k,
                separation=3.0 if separation is None else separation,
                seed=seed or 0,
            )
        _refuse(source, {k: v for k, v in given.items() if k in ("--true-k", "--separation")},
                f"'{GENERATE}' only")
        return PRESETS[source](n, seed or 0)
    if not Path(source).exists() and not any(ch in source for ch in "/\\."):
        raise DataError(
            f"{source}: no such file or preset; presets are: {', '.join(PRESETS)}, or '{GENERATE}' for a random mixture"
        )
    _refuse(source, given, f"presets and '{GENERATE}'; a CSV file's points are its rows")
    return load_csv(source, columns)


def _refuse(source, given: dict, applies_to: str) -> None:
    options = [option for option, value in given.items() if value is not None]
    if options:
        verb = "applies" if len(options) == 1 else "apply"
        raise DataError(f"{source}: {' and '.join(options)} {verb} to {applies_to}")
