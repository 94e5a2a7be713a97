"""Opening a CSV file off the GUI thread: real progress, Cancel, and the table when it is read.

:class:`CsvLoader` runs the reading (:func:`emviz.data.csvfile.iter_csv_table`, the file
read and parsed in pieces) and the choice of the two columns shown as one
:class:`emviz.jobs.Job` in its own thread. It reports the bytes read and parsed, and at the
end either :class:`Loaded` (the table and the data set to show) or a message naming file,
line and column, exactly the message reading in the GUI thread gives. Until the end nothing
of the window's state changes: Cancel, or a failure, leaves the data, settings and history
as they were. A new file asked for while one loads replaces it: the first is cancelled and
the user is told so (what the user chose last is what the window shows).

:class:`LoadingBar` shows it in the status bar: "Loading NAME: 34 of 80 MB", a progress bar
and Cancel, only once a load has taken longer than :data:`SHOW_AFTER_MS`, so a file that
reads in a moment never flashes a bar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from emviz.data import CsvTable, DataError, Dataset
from emviz.data.csvfile import ReadProgress, iter_csv_table
from emviz.jobs import FINISHED_DONE, Job, JobRunner

SHOW_AFTER_MS = 300  # a load that ends sooner shows no progress bar at all
BACKGROUND_BYTES = 2_000_000  # smaller files (about 50 000 rows) are read at once in the GUI thread


@dataclass(frozen=True)
class Loaded:
    """A file read: its table (for the column pickers) and the data set to show."""

    path: str
    table: CsvTable
    dataset: Dataset


def unreadable(path, exc: BaseException) -> str:
    """The message for a reader's slip that is not a DataError: the file, the error, shortened."""
    detail = " ".join(str(exc).split())
    detail = detail if len(detail) <= 200 else detail[:200] + "…"
    return f"{path}: cannot be read ({type(exc).__name__}: {detail})"


def read_now(path, columns=None) -> Loaded:
    """Read ``path`` here and now; DataError with the message to show when it cannot be used."""
    item = None
    for item in _reading(path, columns, None):
        pass
    return item


def _reading(path, columns, chunk_rows):
    """Progress items, then :class:`Loaded`; every failure is a DataError with the message to show."""
    try:
        table = None
        for item in iter_csv_table(path, chunk_rows=chunk_rows):
            if isinstance(item, ReadProgress):
                yield item
            else:
                table = item
        yield Loaded(str(path), table, table.plane(columns))
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader's slip must not take the user's session with it
        raise DataError(unreadable(path, exc)) from None


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.0f}" if n_bytes >= 10e6 else f"{n_bytes / 1e6:.1f}"


class CsvLoader(QObject):
    """Loads one CSV file at a time in a thread; a new :meth:`start` cancels the load under way."""

    started = Signal(str)  # path
    progressed = Signal(float, str)  # fraction done (0..1), what is done in words
    loaded = Signal(object)  # Loaded
    failed = Signal(str)  # the message to show: file, line, column, what would fix it
    cancelled = Signal(str)  # path
    running_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.chunk_rows: int | None = None  # rows parsed between progress reports (None: the reader's default)
        self.path: str | None = None
        self._result: Loaded | None = None
        self._failure: str | None = None
        self._runner = JobRunner(self)
        self._runner.result.connect(self._on_result)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        return self._runner.running

    def start(self, path, columns=None) -> str | None:
        """Load ``path`` in the background; returns the path of a load this one cancelled, if any."""
        replaced = self.path if self.running else None
        if replaced is not None:
            self.cancel()
        self.path = str(path)
        self._result = self._failure = None
        job = Job(_reading(self.path, columns, self.chunk_rows), is_last=lambda r: isinstance(r, Loaded),
                  name="load-csv")
        self._runner.start(job, budget=2**62)
        self.started.emit(self.path)
        self.running_changed.emit(True)
        return replaced

    def cancel(self) -> bool:
        """Stop the load under way (within one piece of the file); nothing it read is kept."""
        if not self.running:
            return False
        path, self.path = self.path, None  # first: stop() says finished, which is no failure
        self._runner.stop()  # joins the thread; what it still had queued is dropped
        self.running_changed.emit(False)
        self.cancelled.emit(path)
        return True

    @Slot(object)
    def _on_result(self, item):
        if isinstance(item, Loaded):
            self._result = item
        else:
            name = Path(self.path).name
            if item.phase == "checking":
                words = f"{name}: checking column {item.done} of {item.total}"
            else:
                words = f"{name}: {item.phase} {_megabytes(item.done)} of {_megabytes(item.total)} MB"
            self.progressed.emit(item.fraction, words)

    @Slot(str)
    def _on_failed(self, message):
        self._failure = message

    @Slot(str)
    def _on_finished(self, reason):
        if self.path is None:  # cancelled: cancel() said so already
            return
        result, failure = self._result, self._failure
        self.path = None
        self.running_changed.emit(False)
        if result is not None and reason == FINISHED_DONE:
            self.loaded.emit(result)
        else:
            self.failed.emit(failure or "the file could not be read (the reading stopped)")


class LoadingBar(QWidget):
    """What a slow load shows in the status bar: what is read, how much of it, and Cancel."""

    def __init__(self, loader: CsvLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self.show_after_ms = SHOW_AFTER_MS
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.bar.setMinimumWidth(160)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop loading; the current data, settings and history stay")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.timeout.connect(self._appear)
        self.cancel.clicked.connect(loader.cancel)
        loader.started.connect(self._on_started)
        loader.progressed.connect(self._on_progressed)
        loader.running_changed.connect(self._on_running_changed)
        self.hide()

    @Slot(str)
    def _on_started(self, path):
        self.label.setText(f"Loading {Path(path).name}")
        self.bar.setValue(0)
        self._delay.start(self.show_after_ms)

    @Slot(float, str)
    def _on_progressed(self, fraction, words):
        self.label.setText(f"Loading {words}")
        self.bar.setValue(round(1000 * fraction))

    @Slot(bool)
    def _on_running_changed(self, running):
        if not running:
            self._delay.stop()
            self.hide()

    @Slot()
    def _appear(self):
        if self.loader.running:
            self.show()


def in_background(path) -> bool:
    """True when ``path`` is large enough to read in the background (and, so, not a moment's work)."""
    try:
        return os.stat(path).st_size >= BACKGROUND_BYTES
    except OSError:
        return False  # read at once: the reader says what is wrong with it
