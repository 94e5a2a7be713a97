"""Data sets: generated mixtures, the built-in presets, and users' CSV files.

Every problem with a user's file raises :class:`DataError` whose message names
the file (and the line and column when there is one) and says what would fix it.

``dataset`` holds the model (:class:`Dataset`, with its ``origin``), ``csvfile``
the reading of CSV files, ``presets`` the generator and the presets, ``sources``
the one-name entry point the command line and the window share.
"""

from emviz.data.csvfile import MAX_CSV_ENV, CsvTable, load_csv, max_csv_bytes, read_csv_table
from emviz.data.dataset import (
    FIT_MEMORY_BYTES,
    MAX_COMPONENTS,
    MAX_FIT_COLUMNS,
    MAX_POINTS,
    MAX_SEPARATION,
    ORIGINS,
    DataError,
    Dataset,
    quote,
)
from emviz.data.presets import GENERATE, PRESETS, Preset, generate
from emviz.data.sources import is_drawn, load

__all__ = [
    "FIT_MEMORY_BYTES",
    "GENERATE",
    "MAX_COMPONENTS",
    "MAX_CSV_ENV",
    "MAX_FIT_COLUMNS",
    "MAX_POINTS",
    "MAX_SEPARATION",
    "ORIGINS",
    "PRESETS",
    "CsvTable",
    "DataError",
    "Dataset",
    "Preset",
    "generate",
    "is_drawn",
    "load",
    "load_csv",
    "max_csv_bytes",
    "quote",
    "read_csv_table",
]
