"""The main window: EM fitting a Gaussian mixture, animated live from a worker thread."""

from __future__ import annotations

import contextlib
import re
import sys

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal, Slot, qInstallMessageHandler
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from emviz.data import PRESETS, CsvTable, DataError, Dataset, generate, read_csv_table
from emviz.preset_policy import preset_name, preset_settings, settings_for_new_data
from emviz.session import Session, Settings, describe_state
from emviz.ui import palette
from emviz.ui.canvas import MixtureCanvas
from emviz.ui.interaction import Interaction
from emviz.ui.controls import DataControls, ModelControls, RunControls
from emviz.ui.likelihood import LikelihoodPlot
from emviz.ui.params import ParameterTable
from emviz.worker import EMRunner

DRAW_INTERVAL_MS = 16  # redraw at most at screen rate, however fast snapshots arrive
RUN_BUDGET = 10**9


@contextlib.contextmanager
def _busy():
    """A wait cursor while the GUI thread does something long (parsing, drawing a large sample)."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


def _headline(state: str) -> str:
    """The state in a word or three for the big header; the status bar has it all."""
    for short in ("converged", "stopped at max iterations", "failed", "looking back"):
        if state.startswith(short):
            return short
    return state


def _minus(text: str) -> str:
    return text.replace("-", "−")


class MainWindow(QMainWindow):
    """The whole application window. ``session`` holds the state; widgets only show it."""

    run_finished = Signal(str)  # why the worker stopped: budget, paused, stopped, done, failed

    def __init__(self, dataset: Dataset | None = None, settings: Settings | None = None, *,
                 table: CsvTable | None = None):
        super().__init__()
        if dataset is None:
            dataset = PRESETS["article"]()
            settings = preset_settings("article", settings or Settings())
        self.session = Session(dataset, settings or Settings())
        self._table = table  # the parsed CSV file behind the data, for its column pickers
        self.frames_drawn = 0
        self.runner = EMRunner(self)
        self._paused = False  # a Run was paused (not: single Steps were taken)
        self._build()
        self._connect()
        self.runner.set_interval(self.run_controls.interval())
        self._show_dataset()
        self.model_controls.show_settings(self.session.settings)
        self._draw_latest()

    # ------------------------------------------------------------------ layout

    def _build(self):
        self.setWindowTitle("emviz — EM for Gaussian mixtures")
        self.header = QLabel()
        header_font = QFont()
        header_font.setPointSize(17)
        header_font.setBold(True)
        self.header.setFont(header_font)
        self.header.setContentsMargins(8, 4, 8, 4)
        self.canvas = MixtureCanvas()
        self.likelihood = LikelihoodPlot()
        self.interaction = Interaction(self)  # draw, erase, drag the start, half-steps, inspector, bound
        bound_box = QGroupBox("The bound EM climbs")
        QVBoxLayout(bound_box).addWidget(self.interaction.bound_view)
        curves = QSplitter(Qt.Orientation.Horizontal)  # the log-likelihood and, beside it, its bound
        curves.addWidget(self.likelihood)
        curves.addWidget(bound_box)
        curves.setStretchFactor(0, 3)
        curves.setStretchFactor(1, 1)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.canvas)
        plots.addWidget(curves)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)
        plots.setSizes([700, 230])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.header)
        left_layout.addWidget(plots, 1)
        self.plots_panel = left

        self.data_controls = DataControls()
        self.model_controls = ModelControls()
        self.run_controls = RunControls()
        self.params = ParameterTable()
        params_box = QGroupBox("Parameters (π, μ, Σ)")
        params_layout = QVBoxLayout(params_box)
        params_layout.addWidget(self.params)
        inspector_box = QGroupBox("Why this colour (click a point)")
        QVBoxLayout(inspector_box).addWidget(self.interaction.inspector)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        for widget in (self.run_controls, self.interaction.panel, inspector_box, self.model_controls,
                       self.data_controls, params_box):
            side_layout.addWidget(widget)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(470)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([1020, 480])
        self.setCentralWidget(splitter)

        bar = self.statusBar()
        self.status_iteration = QLabel()
        self.status_ll = QLabel()
        self.status_delta = QLabel()
        self.status_state = QLabel()
        for label in (self.status_iteration, self.status_ll, self.status_delta):
            label.setMinimumWidth(150)
            bar.addPermanentWidget(label)
        bar.addPermanentWidget(self.status_state, 1)
        self.resize(1500, 950)

        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(DRAW_INTERVAL_MS)

    def _connect(self):
        d, m, r = self.data_controls, self.model_controls, self.run_controls
        d.preset.activated.connect(self._on_preset)
        d.generate.clicked.connect(self.generate_data)
        d.open_csv.clicked.connect(self.open_csv)
        d.points.valueChanged.connect(self._on_sampling_changed)
        d.data_seed.valueChanged.connect(self._on_sampling_changed)
        d.true_k.valueChanged.connect(self._on_generator_changed)
        d.separation.valueChanged.connect(self._on_generator_changed)
        d.x_column.currentIndexChanged.connect(self._on_columns_changed)
        d.y_column.currentIndexChanged.connect(self._on_columns_changed)
        d.equal_axes.toggled.connect(self.canvas.set_equal_axes)
        d.show_truth.toggled.connect(self.canvas.set_show_truth)
        for spin in (m.k, m.seed, m.max_iter):
            spin.valueChanged.connect(self._on_model_changed)
        m.covariance.currentIndexChanged.connect(self._on_model_changed)
        m.init.currentIndexChanged.connect(self._on_model_changed)
        m.tol.currentTextChanged.connect(self._on_tolerance_edited)
        m.tol.lineEdit().editingFinished.connect(self._on_model_changed)
        r.step.clicked.connect(self.step)
        r.run.clicked.connect(self.run_or_pause)
        r.reset.clicked.connect(self.reset)
        r.speed.valueChanged.connect(lambda _: self.runner.set_interval(r.interval()))
        r.history.valueChanged.connect(self._on_history_moved)
        # the slider clamps the iteration to the history and redraws through _on_history_moved
        self.likelihood.iteration_clicked.connect(r.history.setValue)
        r.hard_labels.toggled.connect(self._on_display_changed)
        r.third_ellipse.toggled.connect(self._on_display_changed)
        self.runner.stepped.connect(self._on_step)
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.running_changed.connect(self._on_running_changed)
        self._draw_timer.timeout.connect(self._draw_latest)
        for key, slot in (
            (Qt.Key.Key_Space, self.run_or_pause),
            (Qt.Key.Key_Right, self.step),
            (Qt.Key.Key_R, self.reset),
            (QKeySequence.StandardKey.Open, self.open_csv),
            (QKeySequence("Ctrl+Q"), self.close),
        ):
            QShortcut(QKeySequence(key), self, slot)

    # ------------------------------------------------------------------ running

    def _say_missing(self) -> bool:
        """Tell what the data lack before a run can start; True when something is missing."""
        if self.session.missing:
            self.statusBar().showMessage(self.session.missing, 6000)
        return bool(self.session.missing)

    @Slot()
    def step(self):
        """Exactly one EM iteration."""
        if self.runner.running or self._say_missing():
            return
        if self.session.finished:
            self._say_finished()
            return
        self.runner.start(self.session.steps, 1)
        self._show_status()

    @Slot()
    def run_or_pause(self):
        if self.runner.running:
            self.runner.pause()
            return
        if self._say_missing():
            return
        if self.session.finished:
            self._say_finished()
            return
        self.runner.start(self.session.steps, RUN_BUDGET)
        self._show_status()

    @Slot()
    def reset(self):
        """Iteration 0 again, with the same start."""
        self.runner.stop()
        self.session.reset()
        self._paused = False
        self._draw_latest()

    def _say_finished(self):
        self.statusBar().showMessage(
            f"{self.session.state()}: Reset, or change a setting, to run again", 4000
        )

    @Slot(object)
    def _on_step(self, step):
        self.session.append(step)
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    @Slot(str)
    def _on_run_finished(self, reason):
        self._paused = reason == "paused"
        self._draw_latest()
        self.run_finished.emit(reason)

    @Slot(str)
    def _on_failed(self, message):
        self.session.fail(message)
        self._draw_latest()
        # the engine may already say where ("EM iteration 7: ..."): say it once
        found = re.match(r"EM iteration (\d+): (.*)", message, re.DOTALL)
        iteration, why = (int(found[1]), found[2]) if found else (self.session.last.iteration + 1, message)
        self.show_error("EM stopped", f"EM stopped at iteration {iteration}: {why}")

    @Slot(bool)
    def _on_running_changed(self, running):
        self.run_controls.set_running(running)
        self._show_status()

    # ------------------------------------------------------------------ changes

    @property
    def _kind(self) -> str:
        """Where the points come from: "csv", "preset" or "generated"."""
        if self._table is not None:
            return "csv"
        dataset = self.session.dataset
        return "preset" if dataset is not None and preset_name(dataset) is not None else "generated"

    def _apply(self, dataset: Dataset | None = None, settings: Settings | None = None, *, table=None) -> bool:
        """Stop, then switch data and/or settings; on bad input say why and keep everything as it was."""
        self.runner.stop()
        if dataset is not None and settings is None:
            settings = settings_for_new_data(self.session.dataset, dataset, self.session.settings)
        try:
            with _busy():
                self.session.change(dataset, settings)
        except (DataError, ValueError) as exc:
            self.show_error("Cannot use these settings", str(exc))
            self.model_controls.show_settings(self.session.settings)
            self._draw_latest()
            return False
        self._paused = False
        if dataset is not None:
            self._table = table
            self._show_dataset()
        self.model_controls.show_settings(self.session.settings)
        self._draw_latest()
        return True

    @Slot()
    def _on_model_changed(self, *_):
        try:
            settings = self.model_controls.settings(self.session.settings.reg_covar)
        except ValueError as exc:
            self.show_error("Cannot use these settings", str(exc))
            self.model_controls.show_settings(self.session.settings)
            return
        if settings == self.session.settings:
            return
        was_running = self.runner.running
        self.runner.stop()
        if self.session.carry_on(settings):  # only when EM stops changed: carry on, not over
            self._paused = False
            self.model_controls.show_settings(self.session.settings)
            self._draw_latest()
            if was_running and not self.session.finished:
                self.runner.start(self.session.steps, RUN_BUDGET)
            return
        self._apply(settings=settings)

    @Slot(str)
    def _on_tolerance_edited(self, text):
        # picking from the list applies at once; typed text waits for Enter or leaving the field
        if self.model_controls.tol.findText(text) >= 0 and not self.model_controls.tol.lineEdit().hasFocus():
            self._on_model_changed()

    def load_preset(self, name: str, *, recipe: bool = True) -> bool:
        """Draw preset ``name``; with ``recipe`` its model settings come too (all of them).

        Drawing the same preset again with other points or another data seed
        (``recipe=False``) keeps the settings the user has chosen since.
        """
        d = self.data_controls
        preset = PRESETS[name]
        n = d.points.value() if preset.default_n is not None else None
        try:
            with _busy():
                dataset = preset(n, d.data_seed.value())
        except (DataError, ValueError) as exc:
            self.show_error("Cannot load the preset", str(exc))
            return False
        return self._apply(dataset, preset_settings(name, self.session.settings) if recipe else None)

    @Slot(int)
    def _on_preset(self, index):
        name = self.data_controls.preset.itemData(index)
        preset = PRESETS[name]
        if preset.default_n is not None:
            with QSignalBlocker(self.data_controls.points):
                self.data_controls.points.setValue(preset.default_n)
        self.load_preset(name)

    @Slot()
    def generate_data(self) -> bool:
        d = self.data_controls
        try:
            with _busy():
                dataset = generate(d.points.value(), d.true_k.value(), separation=d.separation.value(),
                                   seed=d.data_seed.value())
        except ValueError as exc:
            self.show_error("Cannot generate data", str(exc))
            return False
        return self._apply(dataset)

    @Slot()
    def _on_sampling_changed(self, *_):
        if self._kind == "preset":
            self.load_preset(self.data_controls.preset.currentData(), recipe=False)
        elif self._kind == "generated":
            self.generate_data()

    @Slot()
    def _on_generator_changed(self, *_):
        if self._kind == "generated":
            self.generate_data()

    @Slot()
    def open_csv(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Open CSV file", "", "Data files (*.csv *.tsv *.txt *.dat);;All files (*)"
        )
        if path:
            self.load_csv(path)

    def load_csv(self, path, columns=None) -> bool:
        """Load a CSV file; a bad one is reported and the current data, settings and history stay."""
        try:
            with _busy():  # a million rows take a second or two to parse
                table = read_csv_table(path)
                dataset = table.plane(columns)
        except DataError as exc:
            self.show_error("Cannot open the file", str(exc))
            return False
        if not self._apply(dataset, table=table):
            return False
        message = dataset.dropped_message()
        if len(table.numeric_columns) > 2:
            message = (f"{len(table.numeric_columns)} numeric columns: showing {dataset.columns[0]} and "
                       f"{dataset.columns[1]}; choose others under Data. ") + message
        if message:
            self.statusBar().showMessage(message, 15000)
        return True

    @Slot()
    def _on_columns_changed(self, *_):
        if self._table is None:
            return
        columns = [self.data_controls.x_column.currentData(), self.data_controls.y_column.currentData()]
        if None in columns:
            return
        if columns[0] == columns[1]:
            self.show_error("Choose two columns", "The X and Y columns must differ.")
            self._show_dataset()
            return
        try:
            dataset = self._table.dataset(columns)
        except DataError as exc:
            self.show_error("Cannot use these columns", str(exc))
            self._show_dataset()
            return
        if self._apply(dataset, table=self._table) and dataset.dropped_rows:
            self.statusBar().showMessage(dataset.dropped_message(), 15000)

    @Slot()
    def _on_display_changed(self, *_):
        self.canvas.hard_labels = self.run_controls.hard_labels.isChecked()
        self.canvas.show_third_ellipse = self.run_controls.third_ellipse.isChecked()
        self.draw_step(self.run_controls.history.value())  # the iteration on show, newest or not

    def show_error(self, title: str, message: str):
        self.statusBar().showMessage(message, 15000)
        QMessageBox.warning(self, title, message)

    # ------------------------------------------------------------------ drawing

    def show_data(self):
        """Show the session's points (after loading or editing them) and what they are."""
        self._show_dataset()

    def _show_dataset(self):
        dataset = self.session.dataset
        d = self.data_controls
        if dataset is None:  # every point erased: an empty canvas to draw on
            columns = self.session.columns
            self.canvas.set_data(self.session.points, columns, equal_axes=d.equal_axes.isChecked())
            d.info.setText("<b>No points</b>: draw some (Draw mode), or load data")
            d.points.setEnabled(False)
            d.data_seed.setEnabled(False)
            return
        name = preset_name(dataset)
        with QSignalBlocker(d.preset):  # no preset shown for a file or generated data
            d.preset.setCurrentIndex(d.preset.findData(name) if name is not None else -1)
        if name is not None:
            equal = PRESETS[name].equal_axes
        else:
            equal = self._kind == "generated"
        sampled = "seed" in dataset.recipe  # drawn points; not a file, not Old Faithful
        d.points.setEnabled(sampled)
        d.data_seed.setEnabled(sampled)
        # the controls show what made these points (they may come from the command line)
        recipe = {"n": dataset.n, **dataset.recipe}
        for box, key in ((d.points, "n"), (d.data_seed, "seed"), (d.true_k, "true_k"), (d.separation, "separation")):
            if key in recipe:
                with QSignalBlocker(box):
                    box.setValue(recipe[key])
        if self._table is not None:
            d.show_columns(self._table.numeric_columns, dataset.columns)
        else:
            d.show_columns([])
        with QSignalBlocker(d.equal_axes):
            d.equal_axes.setChecked(equal)
        d.show_truth.setEnabled(dataset.mixture is not None)
        info = f"<b>{dataset.name}</b>: {dataset.n:,} points"
        if dataset.dropped_rows:
            info += f"<br>{dataset.dropped_message()}"
        d.info.setText(info)
        self.canvas.set_data(dataset.points, dataset.columns, true_mixture=dataset.mixture, equal_axes=equal)
        self.canvas.set_show_truth(d.show_truth.isChecked())
        self.params.set_columns(dataset.columns)
        self.setWindowTitle(f"emviz — {dataset.name}")

    def draw_step(self, index: int = -1, *, replay: bool = False):
        """Draw snapshot ``index`` of the history (the newest by default).

        Looking back, the whole curve stays with the viewed iteration marked; a
        ``replay`` (the frames of 'emviz render') draws the curve only up to it.
        """
        history = self.session.history
        if not history:  # too few points to fit: show the points and what is missing
            self._show_missing()
            return
        index = index % len(history)
        step = history[index]
        self.canvas.show_step(step, lambda rows: self.session.responsibilities(step, rows))
        curve = history[: index + 1] if replay else history
        self.likelihood.set_history(
            np.fromiter((s.iteration for s in curve), dtype=float, count=len(curve)),
            np.fromiter((s.log_likelihood for s in curve), dtype=float, count=len(curve)),
            current=index,
        )
        self.params.set_mixture(step.mixture)
        self.run_controls.show_history(index, len(history) - 1)
        self._show_status(step, replay=replay)
        self.interaction.on_drawn(index)
        self.frames_drawn += 1

    def _show_missing(self):
        missing = self.session.missing
        self.canvas._ensure_components(0)  # no mixture yet: no ellipses, means or legend
        self.canvas.means.setData([], [])
        self.canvas.mean_halos.setData([], [])
        self.likelihood.set_history(np.empty(0), np.empty(0))
        self.params.setRowCount(0)
        self.run_controls.show_history(0, 0)
        for label in (self.status_iteration, self.status_ll, self.status_delta):
            label.setText("")
        self.status_state.setText(missing)
        self.header.setText(f"<span>{missing}</span>")
        self.interaction.on_drawn(-1)
        self.frames_drawn += 1

    @Slot(int)
    def _on_history_moved(self, index):
        if not self.runner.running:
            self.draw_step(index)

    @Slot()
    def _draw_latest(self):
        self._draw_timer.stop()
        self.draw_step(-1)

    def _show_status(self, step=None, *, replay=False):
        step = step or self.session.last
        if step is self.session.last:
            state = self.session.state(running=self.runner.running, paused=self._paused)
        elif replay:  # an earlier snapshot, as 'emviz render' draws the frames of a run
            state = describe_state(step, self.session.settings, running=True)
        else:
            state = f"looking back; newest is iteration {self.session.last.iteration}"
        delta = "—" if not np.isfinite(step.delta) else _minus(f"{step.delta:+.3e}")
        self.status_iteration.setText(f"iteration {step.iteration}")
        self.status_ll.setText("log-likelihood " + _minus(f"{step.log_likelihood:.6f}"))
        self.status_delta.setText(f"Δ {delta}")
        self.status_state.setText(state)
        color = next((c for word, c in (("failed", "#B00020"), ("converged", "#007A4D"), ("stopped", "#B35900"))
                      if state.startswith(word)), palette.INK.name())
        self.header.setText(
            f"<span>Iteration {step.iteration}</span>&nbsp;&nbsp;·&nbsp;&nbsp;"
            f"<span>mean log-likelihood {_minus(f'{step.log_likelihood:.4f}')}</span>&nbsp;&nbsp;·&nbsp;&nbsp;"
            f"<span style='color:{color}'>{_headline(state)}</span>"
        )

    # ------------------------------------------------------------------ lifetime

    def closeEvent(self, event):
        # stop the worker and join its thread before Qt tears the window down
        self.runner.stop()
        super().closeEvent(event)


def _quiet_offscreen_warnings(mode, context, message):
    # Qt's offscreen platform warns on every window it cannot resize natively; nothing is wrong
    if "does not support propagateSizeHints" in message:
        return
    sys.stderr.write(message + "\n")


def make_app(argv=None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_quiet_offscreen_warnings)
        app = QApplication(list(argv or sys.argv[:1]))
        app.setApplicationName("emviz")
        app.setStyle("Fusion")
        font = app.font()
        font.setPointSize(max(font.pointSize(), 11))
        app.setFont(font)
    return app


def run_app(dataset: Dataset | None = None, settings: Settings | None = None, table: CsvTable | None = None) -> int:
    """Open the window and run Qt's event loop until it closes."""
    app = make_app()
    window = MainWindow(dataset, settings, table=table)
    window.show()
    return app.exec()

