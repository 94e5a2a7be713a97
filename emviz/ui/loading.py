"""Work off the GUI thread with progress and Cancel, and opening a CSV file that way.

:class:`Background` runs one piece of work at a time as an :class:`emviz.jobs.Job` in its
own thread: what it does in words, progress, Cancel, and a newer piece replacing the one
under way. Until the work ends nothing of the window's state changes: Cancel, or a
failure, leaves the data, settings and history as they were. :class:`LoadingBar` shows it
in the status bar ("Loading NAME: 34 of 80 MB", a progress bar or a busy indicator, and
Cancel), only once the work has taken longer than :data:`SHOW_AFTER_MS`, so work done in a
moment never flashes a bar. emviz.ui.starting sets up a new start on many points with it.

:class:`CsvLoader` runs the reading (:func:`emviz.data.csvfile.iter_csv_table`, the file
read and parsed in pieces) and the choice of the two columns shown. It reports the bytes
read and parsed, and at the end either :class:`Loaded` (the table and the data set to
show) or a message naming file, line and column, exactly the message reading in the GUI
thread gives. A new file asked for while one loads replaces it: the first is cancelled and
the user is told so (what the user chose last is what the window shows).
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


class Background(QObject):
    """One piece of work at a time in its own thread, with what it does in words, progress
    and Cancel; a new :meth:`_begin` replaces the work under way, quietly.

    Until the work ends nothing of the window's state changes: a subclass turns its last
    result into its own signal (:meth:`_deliver`), a failure into :attr:`failed` with the
    message to show, and Cancel leaves everything as it was.
    """

    started = Signal(str)  # the subject: a file's path, what a start is worked out on
    progressed = Signal(float, str)  # fraction done (0..1), what is done in words
    failed = Signal(str)  # the message to show: what, where and what would fix it
    cancelled = Signal(str)  # the subject
    running_changed = Signal(bool)

    measured = True  # False: no progress is reported, the bar only says the work goes on
    stopped_message = "the work stopped before it ended"  # a failure that said nothing itself
    cancel_tip = "Stop; the current data, settings and history stay"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.subject: str | None = None
        self._result = None
        self._failure: str | None = None
        self._runner = JobRunner(self)
        self._runner.result.connect(self._on_result)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        return self._runner.running

    def describe(self) -> str:
        """The work under way in a few words, for the status bar."""
        return str(self.subject)

    def progress_text(self, words: str) -> str:
        """What the status bar says for a progress report's ``words``."""
        return words

    def _begin(self, results, subject: str, name: str) -> str | None:
        """Run ``results`` (an iterator) in the background; the subject of the work it replaced, if any."""
        replaced = self.subject if self.running else None
        if replaced is not None:
            self.subject = None  # quietly: the caller says what replaced what
            self._halt()
            self.running_changed.emit(False)
        self.subject = subject
        self._result = self._failure = None
        self._runner.start(Job(results, is_last=self._is_last, name=name), budget=2**62)
        self.started.emit(subject)
        self.running_changed.emit(True)
        return replaced

    def cancel(self) -> bool:
        """Stop the work under way; nothing it did is kept."""
        if not self.running:
            return False
        subject, self.subject = self.subject, None  # first: stopping says finished, which is no failure
        self._halt()
        self.running_changed.emit(False)
        self.cancelled.emit(subject)
        return True

    def close(self) -> None:
        """Cancel, and join every thread this has started (before the window goes)."""
        self.cancel()
        self._runner.stop()

    def _halt(self) -> None:
        self._runner.stop()  # joins the thread; what it still had queued is dropped

    def _is_last(self, result) -> bool:
        return True

    def _take(self, result) -> None:
        """A result arrived (the last one is kept for :meth:`_deliver`)."""
        self._result = result

    def _deliver(self, result) -> None:
        raise NotImplementedError

    @Slot(object)
    def _on_result(self, item):
        self._take(item)

    @Slot(str)
    def _on_failed(self, message):
        self._failure = message

    @Slot(str)
    def _on_finished(self, reason):
        if self.subject is None:  # cancelled or replaced: said already
            return
        result, failure = self._result, self._failure
        self.subject = None
        self.running_changed.emit(False)
        if result is not None and reason == FINISHED_DONE:
            self._deliver(result)
        else:
            self.failed.emit(failure or self.stopped_message)


class CsvLoader(Background):
    """Loads one CSV file at a time in a thread; a new :meth:`start` cancels the load under way."""

    loaded = Signal(object)  # Loaded
    cancel_tip = "Stop loading; the current data, settings and history stay"
    stopped_message = "the file could not be read (the reading stopped)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.chunk_rows: int | None = None  # rows parsed between progress reports (None: the reader's default)

    @property
    def path(self) -> str | None:
        return self.subject

    def describe(self) -> str:
        return f"Loading {Path(self.subject).name}" if self.subject else ""

    def start(self, path, columns=None) -> str | None:
        """Load ``path`` in the background; returns the path of a load this one cancelled, if any."""
        path = str(path)
        return self._begin(_reading(path, columns, self.chunk_rows), path, "load-csv")

    def _is_last(self, result) -> bool:
        return isinstance(result, Loaded)

    def _take(self, item):
        if isinstance(item, Loaded):
            self._result = item
            return
        name = Path(self.subject).name
        if item.phase == "checking":
            words = f"{name}: checking column {item.done} of {item.total}"
        else:
            words = f"{name}: {item.phase} {_megabytes(item.done)} of {_megabytes(item.total)} MB"
        self.progressed.emit(item.fraction, words)

    def progress_text(self, words: str) -> str:
        return f"Loading {words}"

    def _deliver(self, result):
        self.loaded.emit(result)


class LoadingBar(QWidget):
    """What slow background work shows in the status bar: what it does, how far it is, and Cancel."""

    def __init__(self, work: Background, parent=None):
        super().__init__(parent)
        self.work = work
        self.show_after_ms = SHOW_AFTER_MS
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.bar.setMinimumWidth(160)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip(work.cancel_tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.timeout.connect(self._appear)
        self.cancel.clicked.connect(work.cancel)
        work.started.connect(self._on_started)
        work.progressed.connect(self._on_progressed)
        work.running_changed.connect(self._on_running_changed)
        self.hide()

    @Slot(str)
    def _on_started(self, subject):
        self.label.setText(self.work.describe())
        self.bar.setRange(0, 1000 if self.work.measured else 0)  # 0, 0: Qt's busy indicator
        self.bar.setValue(0)
        self._delay.start(self.show_after_ms)

    @Slot(float, str)
    def _on_progressed(self, fraction, words):
        self.label.setText(self.work.progress_text(words))
        self.bar.setValue(round(1000 * fraction))

    @Slot(bool)
    def _on_running_changed(self, running):
        if not running:
            self._delay.stop()
            self.hide()

    @Slot()
    def _appear(self):
        if self.work.running:
            self.show()


def in_background(path) -> bool:
    """True when ``path`` is large enough to read in the background (and, so, not a moment's work)."""
    try:
        return os.stat(path).st_size >= BACKGROUND_BYTES
    except OSError:
        return False  # read at once: the reader says what is wrong with it
