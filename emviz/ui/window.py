"""The main window: EM fitting a Gaussian mixture, animated live from a worker thread."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal, Slot, qInstallMessageHandler
from PySide6.QtGui import QActionGroup, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from emviz.data import PRESETS, CsvTable, DataError, Dataset, generate
from emviz.preset_policy import preset_name, preset_settings, settings_for_new_data
from emviz.session import Session, Settings, describe_state, plural
from emviz.ui import palette
from emviz.ui.canvas import MixtureCanvas
from emviz.ui.controls import SPEEDS, DataControls, ModelControls, RunControls
from emviz.ui.interaction import Interaction
from emviz.ui.keyboard import WindowKeys
from emviz.ui.likelihood import LikelihoodPlot
from emviz.ui.loading import CsvLoader, Loaded, LoadingBar, in_background, read_now
from emviz.ui.starting import BACKGROUND_START_POINTS, StartSetter, refusal
from emviz.ui.params import ParameterTable
from emviz.ui.pointdensity import DENSITY_THRESHOLD
from emviz.worker import FRAME_SECONDS, EMRunner

DRAW_INTERVAL_MS = 16  # redraw at most at screen rate, however fast snapshots arrive
# at max speed a frame starts at most this often, and at least MIN_GAP_MS after the last
# one's paint: EM runs in between (it waits while a frame is drawn, see EMRunner.hold_for_frame)
FRAME_PERIOD_MS = 33
SIDE_SECONDS = 0.2  # at max speed the parameter table and the side panel follow this often
MIN_GAP_MS = 8
KEPT_COLOURS = 8  # the points' colours of this many newest snapshots are kept (4 MB each at 1e6 points)
RUN_BUDGET = 10**9
PREFERRED_SIZE = QSize(1500, 950)
SIDE_WIDTH = 375  # the side panel's width in a 1500 px window: a quarter
SIDE_MIN_WIDTH = 330  # at 1024 px the canvas still gets most of the window
PRESENTATION_SCALE = 1.8  # 11 pt tick labels become 19.8 pt: readable from the back of a hall
PRESENTATION_SIDE_SHARE = 0.3  # the most of the screen's width the run controls may take when presenting
NOTICE_MS = 10_000
EDIT_START_DELAY_MS = 150  # an edit's start on many points is set up once the edits pause this long
MAX_POINTS_TO_GENERATE = 1_000_000


def initial_size(available: QSize) -> QSize:
    """The window's first size: the preferred size, or the whole available screen when that is smaller."""
    return QSize(min(PREFERRED_SIZE.width(), available.width()), min(PREFERRED_SIZE.height(), available.height()))


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
    for short in ("converged", "stopped at max iterations", "failed", "looking back", "setting up the start"):
        if state.startswith(short):
            return short
    return state


def _in_palette(colours):
    """``of(step, hard, rows=None)``: the points' ARGB32 colours in the window's palette, from
    ``colours(step, rgb, hard, rows)`` (:meth:`emviz.session.Session.colours_function`); safe
    in the EM worker's thread, which colours the snapshots it hands over with it."""

    def of(step, hard, rows=None):
        return colours(step, palette.rgb(step.mixture.k), hard, rows)

    return of


def _minus(text: str) -> str:
    return text.replace("-", "−")


def _collapsed(step) -> tuple:
    """The components the engine found degenerate in ``step`` (0-based); () from an engine that does not say."""
    return tuple(getattr(step, "collapsed", ()))


def collapsed_words(collapsed) -> str:
    """'component 2 collapsed onto a point' (numbered from 1, as the table and the canvas number them)."""
    if not collapsed:
        return ""
    names = [str(i + 1) for i in collapsed]
    if len(names) == 1:
        return f"component {names[0]} collapsed onto a point"
    return f"components {', '.join(names[:-1])} and {names[-1]} collapsed onto points"


def _scale_axes(plot: pg.PlotWidget, scale: float):
    """Tick labels and axis titles of a pyqtgraph plot at ``scale`` times their desk size."""
    item = plot.getPlotItem()
    font = QFont()
    font.setPointSizeF(12 * scale)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setStyle(tickTextOffset=int(5 * scale))
        if axis.labelText:
            axis.setLabel(axis.labelText, **{"font-size": f"{14 * scale:g}pt", "color": palette.INK.name()})


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
        self._coloured: dict[int, tuple] = {}  # history index -> (snapshot, colours, hard) the worker made
        self._drawn = -1  # the history index drawn last
        self.runner = EMRunner(self)
        self._paused = False  # a Run was paused (not: single Steps were taken)
        self.presenting = False
        self._scale = 1.0
        self._build()
        self._build_loading()
        self._connect()
        self.runner.set_interval(self.run_controls.interval())
        self._show_dataset()
        self.model_controls.show_settings(self.session.settings)
        self._draw_latest()
        self.plots_panel.setFocus()

    # ------------------------------------------------------------------ layout

    def _build(self):
        self.setWindowTitle("emviz — EM for Gaussian mixtures")
        self.header = QLabel()
        self.header.setContentsMargins(8, 4, 8, 4)
        # one line that never widens the window: in a narrow one its type gets smaller (_fit_header)
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # messages for the user, where the user looks: above the plots, not in a corner
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setStyleSheet(
            "QLabel { background: #FFF4CE; color: #3A2E00; border: 1px solid #E0C766;"
            " border-radius: 3px; padding: 4px 8px; }"
        )
        self.notice.hide()
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self.notice.hide)
        self.canvas = MixtureCanvas()
        self.likelihood = LikelihoodPlot()
        self.interaction = Interaction(self)  # draw, erase, drag the start, half-steps, inspector, bound
        self.bound_box = QGroupBox("The bound EM climbs")
        QVBoxLayout(self.bound_box).addWidget(self.interaction.bound_view)
        curves = QSplitter(Qt.Orientation.Horizontal)  # the log-likelihood and, beside it, its bound
        curves.addWidget(self.likelihood)
        curves.addWidget(self.bound_box)
        curves.setStretchFactor(0, 3)
        curves.setStretchFactor(1, 1)
        self.plots = QSplitter(Qt.Orientation.Vertical)
        self.plots.addWidget(self.canvas)
        self.plots.addWidget(curves)
        self.plots.setStretchFactor(0, 3)  # the curve row holds the bound view too: a quarter
        self.plots.setStretchFactor(1, 1)
        self.plots.setSizes([700, 230])
        self.plots.setChildrenCollapsible(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.header)
        left_layout.addWidget(self.plots, 1)
        # the notice floats over the top of the plots: showing it must not move the canvas
        # (a click would land elsewhere than where the user aimed)
        self.notice.setParent(left)
        left.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # where the focus goes when it leaves a field
        self.plots_panel = left

        self.data_controls = DataControls()
        self.model_controls = ModelControls()
        self.run_controls = RunControls()
        self.params = ParameterTable()
        self.params_box = QGroupBox("Parameters (π, μ, Σ)")
        params_layout = QVBoxLayout(self.params_box)
        params_layout.addWidget(self.params)
        self.inspector_box = QGroupBox("Why this colour (click a point)")
        QVBoxLayout(self.inspector_box).addWidget(self.interaction.inspector)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        for widget in (self.run_controls, self.interaction.panel, self.inspector_box, self.model_controls,
                       self.data_controls, self.params_box):
            side_layout.addWidget(widget)
        side_layout.addStretch(1)
        self.side_panel = QScrollArea()
        self.side_panel.setWidget(side)
        self.side_panel.setWidgetResizable(True)
        self.side_panel.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_panel.setMinimumWidth(SIDE_MIN_WIDTH)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.side_panel)
        # the plots get three quarters of any change of width, the side panel one, down to what it
        # needs (it never gets narrower than its widest row: it scrolls down, not sideways)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([3 * SIDE_WIDTH, SIDE_WIDTH])
        self.setCentralWidget(self.splitter)

        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.status_iteration = QLabel()
        self.status_ll = QLabel()
        self.status_delta = QLabel()
        self.status_state = QLabel()
        # the state takes what room is left (its words are also in the header); the numbers
        # keep their room
        self.status_state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.status_state, 1)
        for label in (self.status_iteration, self.status_ll, self.status_delta):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        self._build_menus()
        self._set_fonts(1.0)
        self.resize(initial_size(self._available_size()))

        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(DRAW_INTERVAL_MS)
        self._frame_began: float | None = None  # when the newest max-speed frame started
        self._frame_ended = 0.0  # when the canvas last finished a paint
        self._holding = False  # EM waits for the frame being drawn
        self._side_drawn_at = -float("inf")  # when the table and side panel were last brought up to date

    def _available_size(self) -> QSize:
        screen = self.screen() or QApplication.primaryScreen()
        return screen.availableGeometry().size() if screen is not None else PREFERRED_SIZE

    def _build_menus(self):
        """Every key is in a menu, so it can be found; the keys themselves are read by WindowKeys."""
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self.open_action = file_menu.addAction("Open CSV…", self.open_csv)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        quit_action = file_menu.addAction("Quit", self.close)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        run_menu = menus.addMenu("&Run")
        for text, key, slot in (
            ("Run / pause", "Space", self.run_or_pause),
            ("Step (or forward one iteration when looking back)", "Right, Page Down", self.step_or_forward),
            ("Back one iteration", "Left, Page Up", self.back_one),
            ("First iteration", "Home", lambda: self.look_at(0)),
            ("Newest iteration", "End", lambda: self.look_at(-1)),
            ("Reset", "R", self.reset),
            ("Faster", "+", lambda: self.change_speed(+1)),
            ("Slower", "−", lambda: self.change_speed(-1)),
        ):
            run_menu.addAction(f"{text}\t{key}", slot)
        view_menu = menus.addMenu("&View")
        self.presentation_action = view_menu.addAction("Presentation mode")
        self.presentation_action.setCheckable(True)
        self.presentation_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.presentation_action.toggled.connect(self.set_presentation)
        self.zoom_action = view_menu.addAction("Zoom the curve on the end\tZ")
        self.zoom_action.setCheckable(True)
        self.hard_action = view_menu.addAction("Hard labels\tH")
        self.hard_action.setCheckable(True)
        self.density_action = view_menu.addAction("Show density\tD")
        self.density_action.setCheckable(True)
        self._build_points_menu(view_menu.addMenu("Points"))
        # the window holds the actions with shortcuts too: they must work with the menu bar
        # hidden, as it is in presentation mode
        self.addActions([self.open_action, quit_action, self.presentation_action])

    def _build_points_menu(self, menu):
        """Dots, or one density image for many points: automatic by their number, or the user's choice."""
        group = QActionGroup(self)
        self.point_mode_actions = {}
        for mode, text in (("auto", f"Automatic: a density image above {DENSITY_THRESHOLD:,} points"),
                           ("dots", "Dots (each point recoloured every frame)"),
                           ("density", "Density image (points binned per pixel)")):
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(mode == "auto")
            group.addAction(action)
            action.triggered.connect(lambda _=False, m=mode: self.set_point_mode(m))
            self.point_mode_actions[mode] = action

    def set_point_mode(self, mode: str):
        """How the points are drawn: "auto", "dots" or "density" (View ▸ Points)."""
        self.canvas.set_point_mode(mode)
        with QSignalBlocker(self.point_mode_actions[mode]):
            self.point_mode_actions[mode].setChecked(True)
        if self.session.history_length:
            self.draw_step(self._drawn if 0 <= self._drawn < self.session.history_length else -1)

    def _set_fonts(self, scale: float):
        """Desk sizes at scale 1; presentation mode makes everything readable from the back of a hall."""
        self._fit_header()
        text_font = QFont()
        text_font.setPointSizeF(max(11.0, QApplication.font().pointSizeF()) * scale)
        for widget in (self.notice, self.statusBar(), self.run_controls):
            widget.setFont(text_font)
        self.likelihood.set_scale(scale)
        _scale_axes(self.canvas, scale)
        if scale != self.canvas.scale:
            self.canvas.set_scale(scale)
            self.draw_step(self.run_controls.history.value())
        self.side_panel.setMinimumWidth(self._side_need())

    def _side_need(self) -> int:
        """The side panel's width that shows all of its widest row: it scrolls down, never sideways."""
        panel = self.side_panel
        return max(SIDE_MIN_WIDTH, panel.widget().minimumSizeHint().width()
                   + panel.verticalScrollBar().sizeHint().width() + 2 * panel.frameWidth())

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
        # a tolerance picked from the list applies at once; a typed one on Enter or leaving the field
        m.tol.activated.connect(self._on_model_changed)
        m.tol.lineEdit().editingFinished.connect(self._on_model_changed)
        r.step.clicked.connect(self.step)
        r.run.clicked.connect(self.run_or_pause)
        r.reset.clicked.connect(self.reset)
        r.speed.valueChanged.connect(lambda _: self.runner.set_interval(r.interval()))
        r.history.valueChanged.connect(self._on_history_moved)
        # the slider clamps the iteration to the history and redraws through _on_history_moved
        self.likelihood.iteration_clicked.connect(self.look_at)
        r.hard_labels.toggled.connect(self._on_display_changed)
        r.third_ellipse.toggled.connect(self._on_display_changed)
        # a checkbox and a menu entry, one state
        for box, action in ((r.zoom_curve, self.zoom_action), (r.hard_labels, self.hard_action),
                            (r.density, self.density_action)):
            box.toggled.connect(action.setChecked)
            action.toggled.connect(box.setChecked)
        r.zoom_curve.toggled.connect(self.likelihood.set_zoom_end)
        r.density.toggled.connect(self.canvas.set_show_density)
        self.runner.framed.connect(self._on_frame)
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.running_changed.connect(self._on_running_changed)
        self._draw_timer.timeout.connect(self._draw_latest)
        self.canvas.painted.connect(self._on_canvas_painted)
        self.keys = WindowKeys(
            self,
            {
                Qt.Key.Key_Space: self.run_or_pause,
                Qt.Key.Key_Right: self.step_or_forward,
                Qt.Key.Key_Left: self.back_one,
                # what a presenter's remote sends for next and previous slide
                Qt.Key.Key_PageDown: self.step_or_forward,
                Qt.Key.Key_PageUp: self.back_one,
                Qt.Key.Key_Home: lambda: self.look_at(0),
                Qt.Key.Key_End: lambda: self.look_at(-1),
                Qt.Key.Key_R: self.reset,
                Qt.Key.Key_Z: r.zoom_curve.toggle,
                Qt.Key.Key_H: r.hard_labels.toggle,
                Qt.Key.Key_D: r.density.toggle,
                Qt.Key.Key_Plus: lambda: self.change_speed(+1),
                Qt.Key.Key_Equal: lambda: self.change_speed(+1),
                Qt.Key.Key_Minus: lambda: self.change_speed(-1),
            },
            escape=self._escape,
            home=self.plots_panel,
        )
        self.keys.watch(self)

    # ------------------------------------------------------------------ messages

    def say(self, message: str, ms: int = NOTICE_MS):
        """Tell the user something, above the plots where they look (the status bar keeps the state)."""
        self.notice.setText(message)
        self._place_notice()
        self.notice.show()
        self.notice.raise_()
        self._notice_timer.start(ms)

    def _place_notice(self):
        width = max(100, self.plots_panel.width() - 16)
        height = self.notice.heightForWidth(width)
        self.notice.setGeometry(8, self.header.height() + 2, width, height if height > 0 else self.notice.sizeHint().height())

    def show_error(self, title: str, message: str):
        self.say(message)
        QMessageBox.warning(self, title, message)

    def _why_finished(self) -> str:
        """Why Step and Run cannot go on, and what would let them."""
        state = self.session.state()
        if self.session.last is None:
            return self.session.missing
        if self.session.error:
            return f"EM {state}. Reset, or change a setting, to start again"
        if self.session.last.converged:
            return f"EM {state}. Lower the tolerance to carry on, or Reset to run it again"
        return f"EM {state}. Raise Max iterations to carry on, or Reset to run it again"

    # ------------------------------------------------------------------ running

    def _say_missing(self) -> bool:
        """Tell what the data lack before a run can start; True when something is missing."""
        if self.session.missing:
            self.say(self.session.missing)
        return bool(self.session.missing)

    def _wait_for_start(self, budget: int) -> bool:
        """While a new start is set up, a Step or Run waits for it; True when it does."""
        if not self.starter.running and self.session.awaiting_start:  # not yet set up, or cancelled
            self.follow_edit(now=True)
        if not self.starter.running:
            return False
        if budget == RUN_BUDGET and self._queued_budget == RUN_BUDGET:  # Space again: not after all
            self._queued_budget = 0
            self.say("The run will not start when the new start is ready")
            return True
        self._queued_budget = budget
        what = "The run starts" if budget == RUN_BUDGET else "One step follows"
        self._start_notice = f"{self.starter.describe()}… {what} when it is ready"
        self.say(self._start_notice)
        return True

    @Slot()
    def step(self):
        """Exactly one EM iteration."""
        if self._wait_for_start(1):
            return
        if self.runner.running:
            self.say("EM is running: pause it (Space) to go one step at a time")
            return
        if self._say_missing():
            return
        if self.session.finished or self.session.error:
            self.say(self._why_finished())
            return
        self._paused = False
        self._start_run(1)
        self._show_status()

    @Slot()
    def run_or_pause(self):
        if self.runner.running:
            # at once, whatever n: the iteration EM is still computing is dropped, and the
            # next run starts from the newest snapshot on show
            self.runner.pause(now=True)
            self.session.carry_on(self.session.settings)
            return
        if self._wait_for_start(RUN_BUDGET):
            return
        if self._say_missing():
            return
        if self.session.finished or self.session.error:
            self.say(self._why_finished())
            return
        self._start_run(RUN_BUDGET)
        self._show_status()

    @Slot()
    def reset(self):
        """Iteration 0 again, with the same start."""
        if not self.runner.running and len(self.session.history) == 1 and not self.session.error:
            self.say("Already at iteration 0, the start: nothing to reset")
            return
        self.runner.stop()
        self.session.reset()
        self._paused = False
        self._draw_latest()

    @Slot()
    def step_or_forward(self):
        """The Right arrow: forward one iteration when looking back, else one EM step."""
        shown, newest = self.run_controls.history.value(), len(self.session.history) - 1
        if not self.runner.running and shown < newest:
            self.look_at(shown + 1)
        else:
            self.step()

    @Slot()
    def back_one(self):
        if self.runner.running:
            self.say("EM is running: pause it (Space) to look back")
            return
        shown = self.run_controls.history.value()
        if shown == 0:
            self.say("This is iteration 0, the start")
            return
        self.look_at(shown - 1)

    @Slot(int)
    def look_at(self, index: int):
        """Show iteration ``index`` of the history (-1: the newest); past the end, the newest."""
        if self.runner.running:
            self.say("EM is running: pause it (Space) to look back")
            return
        newest = len(self.session.history) - 1
        self.run_controls.history.setValue(newest if index < 0 or index > newest else index)

    def change_speed(self, by: int):
        speed = self.run_controls.speed
        wanted = speed.value() + by
        if not speed.minimum() <= wanted <= speed.maximum():
            self.say(f"Speed is already at its {'highest' if by > 0 else 'lowest'}")
            return
        speed.setValue(wanted)
        rate = SPEEDS[wanted]
        self.say(f"Speed: {plural(rate, 'iteration')} a second" if rate else "Speed: as fast as EM goes", 2000)

    def _start_run(self, budget: int) -> bool:
        """EM in the worker's thread, which also colours the points of the snapshots to draw."""
        self.runner.point_colours = _in_palette(self.session.colours_function())
        self.runner.set_hard(self.canvas.hard_labels)
        self._coloured.clear()  # a run's first snapshot is always coloured: nothing older is needed
        return self.runner.start(self.session.steps, budget)

    @Slot(object)
    def _on_frame(self, frame):
        snapshot = self.session.append(frame.step)
        if frame.colors is not None:
            index = self.session.history_length - 1
            self._coloured[index] = (snapshot, frame.colors, frame.hard)
            for old in [i for i in self._coloured if i <= index - KEPT_COLOURS]:
                del self._coloured[old]
        if not self._draw_timer.isActive():
            self._draw_timer.start(self._next_frame_in())

    @property
    def _at_max_speed(self) -> bool:
        """The speed is set faster than frames can follow (a run then draws the newest snapshot a
        frame at a time); slower, a lecture speed, every iteration is drawn."""
        return self.run_controls.interval() < FRAME_SECONDS

    def _next_frame_in(self) -> int:
        """Milliseconds until the next frame may start: screen rate at lecture speeds; at max
        speed one frame per FRAME_PERIOD_MS, and never sooner than MIN_GAP_MS after the last
        paint, so EM, which waits while a frame is drawn, always gets its turn."""
        if self._frame_began is None:
            return DRAW_INTERVAL_MS
        now = time.monotonic()
        if not self._at_max_speed:  # lecture: the worker waits for each frame
            wait = DRAW_INTERVAL_MS / 1000 - (now - self._frame_began)
        else:
            wait = max(FRAME_PERIOD_MS / 1000 - (now - self._frame_began), MIN_GAP_MS / 1000 - (now - self._frame_ended))
        return max(0, int(round(1000 * wait)))

    @Slot()
    def _on_canvas_painted(self):
        self._frame_ended = time.monotonic()
        if self._holding:  # the frame is on the screen: EM goes on
            self._holding = False
            self.runner.frame_done()

    def _colours_for(self, index: int, history):
        """The worker's colours for snapshot ``index``; while a run goes on, the newest it made.

        Between two drawn snapshots of a fast run the points keep the colours of the
        newest coloured one (at most a screen refresh older); None: the GUI colours them.
        """
        hard = self.canvas.hard_labels
        found = self._coloured.get(index)
        if found is not None and found[0] is history[index] and found[2] == hard:
            return found[1]
        if self.runner.running:
            for i in sorted(self._coloured, reverse=True):
                snapshot, colors, made_hard = self._coloured[i]
                if i <= index and snapshot is history[i] and made_hard == hard:
                    return colors
        return None

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
        self._show_status()

    def _show_actions(self):
        """Buttons that cannot act now look it, and say why in their tooltips."""
        running = self.runner.running
        stuck = self._why_finished() if (self.session.finished or self.session.error) else ""
        self.run_controls.show_actions(
            running,
            cannot_step="EM is running (Space pauses)" if running else stuck,
            cannot_run=stuck,
            cannot_reset="" if running or len(self.session.history) > 1 or self.session.error
            else "already at iteration 0",
        )

    # ------------------------------------------------------------------ presentation

    @Slot(bool)
    def set_presentation(self, on: bool):
        """Full screen, large type and lines, only the run controls beside the plots; F11 or Esc leaves."""
        on = bool(on)
        if on == self.presenting:
            return
        self.presenting = on
        with QSignalBlocker(self.presentation_action):
            self.presentation_action.setChecked(on)
        self._scale = PRESENTATION_SCALE if on else 1.0
        for widget in (self.interaction.panel, self.model_controls, self.data_controls, self.params_box,
                       self.inspector_box, self.bound_box):
            widget.setVisible(not on)
        self.menuBar().setVisible(not on)
        self._set_fonts(self._scale)
        if on:
            self._geometry_before_presenting = self.saveGeometry()
            screen = self.screen()
            if screen is not None:  # without a window manager, full screen is only a flag
                self.setGeometry(screen.geometry())
            self.showFullScreen()
            self.say("Presentation mode: F11 or Esc leaves it. Space runs or pauses, Right steps, "
                     "Left looks back, R resets, Z zooms the curve", 6000)
        else:
            self.showNormal()
            self.restoreGeometry(self._geometry_before_presenting)
            self.notice.hide()
        side = self._side_need() if on else max(self._side_need(), self.width() // 4)
        # on a narrow screen the run controls in large type would crowd the canvas: hide them,
        # the keyboard does it all
        self.side_panel.setVisible(not on or side <= PRESENTATION_SIDE_SHARE * self.width())
        self.splitter.setSizes([max(1, self.width() - side), side])
        self._fit_header()
        total = sum(self.plots.sizes())
        # more room for the curve, whose type is now large
        self.plots.setSizes([total * 2 // 3, total // 3] if on else [total * 3 // 4, total // 4])

    def _escape(self) -> bool:
        if self.presenting:
            self.set_presentation(False)
            return True
        return False

    # ------------------------------------------------------------------ changes

    @property
    def _kind(self) -> str:
        """Where the points come from: "csv", "preset" or "generated"."""
        if self._table is not None:
            return "csv"
        dataset = self.session.dataset
        return "preset" if dataset is not None and preset_name(dataset) is not None else "generated"

    def _stop_run(self):
        """Stop the worker and keep the iterations that arrived; EM would carry on from the newest.

        Snapshots the worker made but that had not arrived are dropped, so the run's
        steps are taken up again from the history, not from where the worker was.
        """
        if self.runner.running:
            self.runner.stop()
            self.session.carry_on(self.session.settings)

    def _apply(self, dataset: Dataset | None = None, settings: Settings | None = None, *, table=None,
               message: str = "") -> bool:
        """Stop, then switch data and/or settings; on bad input say why and keep everything as it was.

        On more than :attr:`background_start_points` points the new start is worked out in
        another thread (emviz.ui.starting): this returns True at once, the window goes on
        showing what it had, and the change lands when the start is ready. ``message`` is
        said when it has landed (what a loaded file's columns and rows were).
        """
        self._stop_run()
        if dataset is not None:  # data chosen now win over a file still loading
            self.loader.cancel()
        if dataset is not None and settings is None:
            pending = self.starter.pending
            # settings still being set up are the ones in force for the user
            current = pending.settings if pending is not None and not pending.new_data else self.session.settings
            settings = settings_for_new_data(self.session.dataset, dataset, current)
        self._forget_start()  # what was asked last wins
        plan = self.session.plan(dataset, settings)
        data = dataset or self.session.dataset
        source = data.source if data is not None else "the drawn points"  # (drawn points are never refused)
        if plan.n > self.background_start_points:
            self.starter.start(plan, source, (table, message))
            self._show_state()
            return True
        try:
            with _busy():
                prepared = plan.work()
        except Exception as exc:  # noqa: BLE001 - said to the user; the data, settings and history stay
            self._refused(refusal(exc, source))
            return False
        self._adopt(prepared, (table, message))
        return True

    def _adopt(self, prepared, context=(None, "")):
        """Show a new start (worked out here or in the background); ``context`` is (table, message)."""
        table, message = context
        if self.notice.isVisible() and self.notice.text() == self._start_notice:
            self.notice.hide()  # "Setting up the start…" is over
        if not self.session.adopt(prepared):
            if prepared.plan.for_edit:  # an edit's start overtaken by another change, which set up its own
                self.follow_edit()
            else:  # the points were edited meanwhile: again, on them
                self._apply(settings=prepared.plan.settings)
            return
        self._paused = False
        if prepared.plan.new_data:
            self._table = table
            self._show_dataset()
        self.model_controls.show_settings(self.session.settings)
        self._draw_latest()
        if message:
            self.say(message, 20_000)
        self._run_queued()

    def _run_queued(self):
        """The Step or Run asked for while a start was being set up, now that none is."""
        budget, self._queued_budget = self._queued_budget, 0
        if budget:
            (self.run_or_pause if budget == RUN_BUDGET else self.step)()

    def _show_state(self):
        """The state in the status bar and header, as it is now (or what is missing)."""
        if self.session.last is None:
            self._show_missing()
        else:
            self._show_status()

    def refuse_while_starting(self, *, data: bool) -> str:
        """Why the model (or, with ``data``, the points) cannot be touched now, or "".

        While a new start is set up, a change made by hand to the mixture on show would be
        overwritten when it lands; while new data are set up, so would an edit of the points.
        """
        plan = self.starter.pending
        if plan is None or plan.for_edit:
            return ""
        if plan.new_data:
            return "New data are being set up: wait for them, or Cancel in the status bar to keep these"
        if data:
            return ""  # the start is worked out again on the edited points
        return "A new start is being set up: wait for it, or Cancel in the status bar to keep this one"

    def starts_at_once(self) -> bool:
        """False when a new start on the current points is worked out in the background."""
        return self.session.n <= self.background_start_points

    def follow_edit(self, *, now: bool = False):
        """After an edit, undo or redo: set up the start an edit on many points left undone
        (Session.plan_edit_start), and drop one no longer wanted (an undo put its start back).

        The start waits until the edits pause for EDIT_START_DELAY_MS (or ``now``): a brush
        stroke edits at every mouse move, and each of those would otherwise start a k-means
        (and its thread) only for the next move to stop it.
        """
        pending = self.starter.pending
        if pending is not None and not pending.for_edit:
            if pending.new_data:  # new data replace the edited points when they are ready
                return
            self._apply(settings=pending.settings)  # the settings asked for, on the points as they are now
            return
        self._forget_start()
        self._edit_start_timer.stop()
        if self.session.awaiting_start:
            if now:
                self.starter.start(self.session.plan_edit_start(), "the edited points", (None, ""))
            else:
                self._edit_start_timer.start(EDIT_START_DELAY_MS)

    @Slot()
    def _on_edits_paused(self):
        if self.session.awaiting_start and not self.starter.running:
            self.follow_edit(now=True)

    def _refused(self, message: str):
        self._queued_budget = 0
        self.show_error("Cannot use these settings", message)
        self.model_controls.show_settings(self.session.settings)
        self._draw_latest()

    def _forget_start(self):
        """Drop a start still being worked out (a newer change replaces it)."""
        if self.starter.running:
            self._forgetting = True
            try:
                self.starter.cancel()
            finally:
                self._forgetting = False

    @Slot(str)
    def _on_start_cancelled(self, subject):
        if self._forgetting:  # replaced by a newer change: a Step or Run asked for follows that one
            return
        self._queued_budget = 0
        self._show_state()  # with an edit's start cancelled: "the edited points have no start yet"
        self.model_controls.show_settings(self.session.settings)
        if self.session.awaiting_start:
            self.say("Stopped setting up a start on the edited points: Step or Run sets one up")
            return
        self.say("Stopped setting up the new start: the data, settings and history are as they were")

    @Slot()
    def _on_model_changed(self, *_):
        try:
            settings = self.model_controls.settings(self.session.settings.reg_covar)
        except ValueError as exc:
            self.show_error("Cannot use these settings", str(exc))
            self.model_controls.show_settings(self.session.settings)
            return
        plan = self.starter.pending
        if plan is not None and settings == plan.settings:  # the start under way has these already
            return
        if plan is not None and plan.new_data:  # new data are being set up: with these settings now
            table, message = self.starter.context
            self._apply(plan.dataset, settings, table=table, message=message)
            return
        if settings == self.session.settings:
            if plan is not None:  # back to the settings in force: a start set up for others is not wanted
                self._forget_start()
                self._show_state()
                self._run_queued()
            return
        was_running = self.runner.running
        self._stop_run()
        if self.session.carry_on(settings):  # only when EM stops changed: carry on, not over
            self._paused = False
            self.model_controls.show_settings(self.session.settings)
            self._draw_latest()
            if was_running and not self.session.finished:
                self._start_run(RUN_BUDGET)
            return
        self._apply(settings=settings)

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
        n = min(max(d.points.value(), 10), MAX_POINTS_TO_GENERATE)  # the box may show a file's count
        try:
            with _busy():
                dataset = generate(n, d.true_k.value(), separation=d.separation.value(),
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
        """Load a CSV file; a bad one is reported and the current data, settings and history stay.

        A large file is read in the background (emviz.ui.loading): this returns True at once,
        and the data change when it has been read; a file asked for while another loads
        replaces that one.
        """
        if in_background(path):
            replaced = self.loader.start(path, columns)
            if replaced is not None:
                self.say(f"Stopped loading {Path(replaced).name}: opening {Path(path).name} instead")
            return True
        try:
            with _busy():
                loaded = read_now(path, columns)
        except DataError as exc:
            self.show_error("Cannot open the file", str(exc))
            return False
        return self._show_loaded(loaded)

    def _build_loading(self):
        self.loader = CsvLoader(self)
        self.loading_bar = LoadingBar(self.loader)
        self.statusBar().insertWidget(1, self.loading_bar)  # beside the state, left of the numbers
        self.background_start_points = BACKGROUND_START_POINTS
        self.starter = StartSetter(self)
        self.start_bar = LoadingBar(self.starter)
        self.statusBar().insertWidget(1, self.start_bar)
        self._queued_budget = 0  # a Step (1) or Run asked for while a start is set up: done when it is ready
        self._edit_start_timer = QTimer(self)
        self._edit_start_timer.setSingleShot(True)
        self._edit_start_timer.timeout.connect(self._on_edits_paused)
        self._forgetting = False
        self._start_notice = ""  # the notice said while a start is set up, taken away when it lands
        self.starter.ready.connect(self._adopt)
        self.starter.failed.connect(self._refused)
        self.starter.cancelled.connect(self._on_start_cancelled)
        self.loader.loaded.connect(self._show_loaded)
        self.loader.failed.connect(lambda message: self.show_error("Cannot open the file", message))
        self.loader.cancelled.connect(
            lambda path: self.say(f"Stopped loading {Path(path).name}: the data, settings and history are as they were"))

    @Slot(object)
    def _show_loaded(self, loaded: Loaded) -> bool:
        table, dataset = loaded.table, loaded.dataset
        message = dataset.dropped_message()
        if len(table.numeric_columns) > 2:
            message = (f"{len(table.numeric_columns)} numeric columns: showing {dataset.columns[0]} and "
                       f"{dataset.columns[1]}; choose others under Data. ") + message
        return self._apply(dataset, table=table, message=message)  # said once the data are on show

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
            self.say(dataset.dropped_message(), 20_000)

    @Slot()
    def _on_display_changed(self, *_):
        self.canvas.hard_labels = self.run_controls.hard_labels.isChecked()
        self.runner.set_hard(self.canvas.hard_labels)
        self.canvas.show_third_ellipse = self.run_controls.third_ellipse.isChecked()
        self.draw_step(self.run_controls.history.value())  # the iteration on show, newest or not

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
        with QSignalBlocker(d.points):  # a file's count is shown as it is, 3 points or 3 million
            d.points.setRange(10, 1_000_000) if sampled else d.points.setRange(0, max(dataset.n, 1_000_000))
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
        _scale_axes(self.canvas, self._scale)  # set_data gave the axis titles their desk size
        self.params.set_columns(dataset.columns)
        self.side_panel.setMinimumWidth(self._side_need())  # the data's columns may widen a row
        self.setWindowTitle(f"emviz — {dataset.name}")

    def draw_step(self, index: int = -1, *, replay: bool = False):
        """Draw snapshot ``index`` of the history (the newest by default).

        Looking back, the whole curve stays with the viewed iteration marked; a
        ``replay`` (the frames of 'emviz render') draws the curve only up to it.
        """
        history = self.session.history_view  # no copy: a frame reads a few snapshots
        if not history:  # too few points to fit: show the points and what is missing
            self._show_missing()
            return
        index = index % len(history)
        step = history[index]
        self._drawn = index
        # the points' colours in one pass over them (compiled once the kernel is ready), not
        # through an (n, k) array of responsibilities: ~20 ms at 1e6 points instead of ~130
        colours = _in_palette(self.session.colours_function())
        self.canvas.show_step(step, None, colors=self._colours_for(index, history),
                              colours=lambda rows, hard: colours(step, hard, rows))
        iterations, values = self.session.curve()
        end = index + 1 if replay else len(iterations)
        self.likelihood.set_history(iterations[:end], values[:end], current=index,
                                    live=self.runner.running and not replay)
        # the table of numbers and the side panel's views at max speed: a few times a second
        # (faster than anyone reads them; each costs the GUI thread milliseconds a frame)
        now = time.monotonic()
        lively = self.runner.running and not replay and self._at_max_speed
        if not lively or now - self._side_drawn_at >= SIDE_SECONDS:
            self._side_drawn_at = now
            self.params.set_mixture(step.mixture, _collapsed(step))
            self.interaction.on_drawn(index)
        self.run_controls.show_history(index, len(history) - 1)
        self._show_status(step, replay=replay)
        self.frames_drawn += 1

    def _show_missing(self):
        missing = self.session.missing
        if (self.session.awaiting_start and not self.starter.running
                and not self._edit_start_timer.isActive()):  # its setting up was cancelled
            missing = "the edited points have no start yet: Step or Run sets one up"
        self.canvas._ensure_components(0)  # no mixture yet: no ellipses, means or legend
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
        if self.runner.running:
            self.say("EM is running: pause it (Space) to look back")
            return
        self.draw_step(index)

    @Slot()
    def _draw_latest(self):
        """Draw the newest snapshot; at lecture speeds the next one not drawn yet, so none is skipped."""
        self._draw_timer.stop()
        newest = self.session.history_length - 1
        lecture = self.runner.running and not self._at_max_speed
        if lecture and 0 <= self._drawn < newest:
            self._frame_began = time.monotonic()
            self.draw_step(self._drawn + 1)
            if self._drawn < newest:  # EM got ahead of the screen: catch up a frame at a time
                self._draw_timer.start(DRAW_INTERVAL_MS)
                return
        else:
            if (self.runner.running and not lecture and self.canvas.isVisible()
                    and not self.isMinimized()):  # a frame the screen will show: EM waits for it
                self.runner.hold_for_frame()
                self._holding = True
            self._frame_began = time.monotonic()
            self.draw_step(-1)
        self.runner.shown()

    def _show_status(self, step=None, *, replay=False):
        step = step or self.session.last
        if step is self.session.last and self.starter.running:
            state = "setting up the start"  # what and on how many points: the bar beside it
        elif step is self.session.last:
            state = self.session.state(running=self.runner.running, paused=self._paused)
        elif replay:  # an earlier snapshot, as 'emviz render' draws the frames of a run
            state = describe_state(step, self.session.settings, running=True)
        else:
            state = f"looking back; newest is iteration {self.session.last.iteration}"
        delta = "—" if not np.isfinite(step.delta) else _minus(f"{step.delta:+.3e}")
        self.status_iteration.setText(f"iteration {step.iteration}")
        self.status_ll.setText("log-likelihood " + _minus(f"{step.log_likelihood:.6f}"))
        self.status_delta.setText(f"Δ {delta}")
        collapsed = collapsed_words(_collapsed(step))
        if collapsed:  # a degenerate fit is not reported as any other
            state = f"{state}; {collapsed}"
        self.status_state.setText(state)
        color = next((c for word, c in (("failed", "#B00020"), ("converged", "#007A4D"), ("stopped", "#B35900"))
                      if state.startswith(word)), palette.INK.name())
        self.header.setText(
            f"<span>Iteration {step.iteration}</span>&nbsp;&nbsp;·&nbsp;&nbsp;"
            f"<span>mean log-likelihood {_minus(f'{step.log_likelihood:.4f}')}</span>&nbsp;&nbsp;·&nbsp;&nbsp;"
            f"<span style='color:{color}'>{_headline(state)}</span>"
            + (f"&nbsp;&nbsp;·&nbsp;&nbsp;<span style='color:#B00020'>{collapsed}</span>" if collapsed else "")
        )
        self._show_actions()
        self._fit_header()
        need = self._side_need()  # a caption or an inspector may have widened a row of the side panel
        if need > self.side_panel.minimumWidth():
            self.side_panel.setMinimumWidth(need)
        # lay the status bar out now: 'emviz render' grabs the window without an event loop
        self.statusBar().layout().activate()

    def _fit_header(self):
        """The header's type at its size (17 pt, scaled when presenting), smaller if the line would not fit."""
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(17 * self._scale)
        self.header.setFont(font)
        # the same height whatever the words: the canvas below must not move between two clicks
        self.header.setFixedHeight(QFontMetrics(font).height() + 12)
        side = self.side_panel.width() if self.side_panel.isVisible() else 0
        room = self.width() - side - 20  # the plots' width, known even before the layout catches up
        need = self.header.sizeHint().width()
        if need > room > 0:
            font.setPointSizeF(max(8.0, 17 * self._scale * room / need))
            self.header.setFont(font)
        self.plots_panel.layout().activate()  # its height follows the type at once

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if hasattr(self, "header"):
            self._fit_header()
            if self.notice.isVisible():
                self._place_notice()

    def showEvent(self, event):
        # polished at last: the side panel's rows have their real widths
        self.side_panel.setMinimumWidth(self._side_need())
        super().showEvent(event)

    # ------------------------------------------------------------------ lifetime

    def closeEvent(self, event):
        # stop the workers and join their threads before Qt tears the window down
        self.loader.close()
        self.starter.close()
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


def open_window(dataset: Dataset | None = None, settings: Settings | None = None, table: CsvTable | None = None,
                *, load: tuple | None = None) -> "MainWindow":
    """Make and show the window; ``load`` = (path, columns): then read that CSV file in the
    background (progress and Cancel in the status bar, as Open CSV... does)."""
    window = MainWindow(dataset, settings, table=table)
    available = window._available_size()
    if available.width() < PREFERRED_SIZE.width() or available.height() < PREFERRED_SIZE.height():
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)  # a small screen: all of it
    window.show()
    if load is not None:
        window.load_csv(*load)
    return window


def run_app(dataset: Dataset | None = None, settings: Settings | None = None, table: CsvTable | None = None, *,
            load: tuple | None = None) -> int:
    """Open the window (:func:`open_window`) and run Qt's event loop until it closes."""
    app = make_app()
    window = open_window(dataset, settings, table, load=load)  # noqa: F841 - kept alive while the loop runs
    return app.exec()

