"""The control panel: Data, Model and Run groups. Widgets only; the window wires them.

Boxes and sliders take the mouse wheel only when they have the keyboard focus: a
wheel notch while scrolling the side panel past them scrolls the panel, instead of
changing the covariance type and throwing the run away.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
)

from emviz.data import PRESETS
from emviz.session import Settings

INIT_LABELS = {
    "kmeans++": "k-means++ seeds",
    "kmeans": "k-means",
    "random-points": "random data points",
    "random": "random (the article's)",
}
COVARIANCE_LABELS = {
    "full": "full",
    "diag": "diagonal",
    "spherical": "spherical",
    "tied": "tied (shared)",
}
TOLERANCES = ["1e-3", "1e-4", "1e-5", "1e-6", "1e-7", "1e-8", "1e-10"]
# iterations per second; 0 means as fast as EM goes
SPEEDS = [1, 2, 5, 10, 30, 0]


class _WheelWithFocusOnly:
    """Mix-in: a wheel event is for the widget only while it has the focus; otherwise the
    event is ignored and goes on to the parent (the scrolling side panel)."""

    def _wheel_policy(self):
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus: the wheel gives no focus

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class ComboBox(_WheelWithFocusOnly, QComboBox):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._wheel_policy()


class SpinBox(_WheelWithFocusOnly, QSpinBox):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._wheel_policy()


class DoubleSpinBox(_WheelWithFocusOnly, QDoubleSpinBox):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._wheel_policy()


class Slider(_WheelWithFocusOnly, QSlider):
    def __init__(self, orientation, parent=None):
        super().__init__(orientation, parent)
        self._wheel_policy()


def _combo(items: dict, tip: str) -> QComboBox:
    box = ComboBox()
    for key, label in items.items():
        box.addItem(label, key)
    box.setToolTip(tip)
    return box


def _spin(low, high, value, tip, step=1) -> QSpinBox:
    box = SpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setToolTip(tip)
    box.setKeyboardTracking(False)  # one change when typing is done, not one per digit
    return box


def select_data(box: QComboBox, key) -> None:
    """Set a combo box to the item holding ``key`` without emitting signals."""
    index = box.findData(key)
    if index >= 0:
        box.blockSignals(True)
        box.setCurrentIndex(index)
        box.blockSignals(False)


class DataControls(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Data", parent)
        form = QFormLayout()
        self.preset = ComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("Built-in data sets, each with something to show")
        self.preset.setPlaceholderText("(your own data)")
        form.addRow("Preset", self.preset)
        self.points = _spin(10, 1_000_000, 600, "Number of points drawn for a preset or a generated mixture", 100)
        form.addRow("Points", self.points)
        self.data_seed = _spin(0, 2**31 - 1, 0, "Seed for drawing the points")
        form.addRow("Data seed", self.data_seed)
        self.true_k = _spin(1, 12, 3, "Number of components of the generated mixture")
        form.addRow("True k", self.true_k)
        self.separation = DoubleSpinBox()
        self.separation.setRange(0.0, 20.0)
        self.separation.setSingleStep(0.5)
        self.separation.setValue(3.0)
        self.separation.setKeyboardTracking(False)
        self.separation.setToolTip(
            "Smallest distance between the generated means, in standard deviations (1: heavy overlap, 4: apart)"
        )
        form.addRow("Separation", self.separation)
        buttons = QHBoxLayout()
        self.generate = QPushButton("Generate")
        self.generate.setToolTip("Draw points from a random mixture with the true k, separation and seed above")
        self.open_csv = QPushButton("Open CSV…")
        self.open_csv.setToolTip("Load your own data from a CSV file (Ctrl+O)")
        buttons.addWidget(self.generate)
        buttons.addWidget(self.open_csv)
        form.addRow(buttons)
        self.x_column = ComboBox()
        self.x_column.setToolTip("The column drawn (and fitted) along the horizontal axis")
        self.y_column = ComboBox()
        self.y_column.setToolTip("The column drawn (and fitted) along the vertical axis")
        self.x_label, self.y_label = QLabel("X column"), QLabel("Y column")
        form.addRow(self.x_label, self.x_column)
        form.addRow(self.y_label, self.y_column)
        self.equal_axes = QCheckBox("Equal axes")
        self.equal_axes.setToolTip("Same scale on both axes: off for columns in different units")
        self.show_truth = QCheckBox("Show true components")
        self.show_truth.setToolTip("Dashed grey: the 2σ ellipses of the mixture the points were drawn from")
        toggles = QHBoxLayout()
        toggles.addWidget(self.equal_axes)
        toggles.addWidget(self.show_truth)
        form.addRow(toggles)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setToolTip("Where the points come from, and rows left out of a CSV file")
        form.addRow(self.info)
        self.setLayout(form)
        self.show_columns([])

    def show_columns(self, columns, chosen=()):
        """Offer the column pickers only when a file has more than two numeric columns."""
        visible = len(columns) > 2
        for widget in (self.x_column, self.y_column, self.x_label, self.y_label):
            widget.setVisible(visible)
        for box, name in zip((self.x_column, self.y_column), chosen or (None, None)):
            box.blockSignals(True)
            box.clear()
            for column in columns:
                box.addItem(column, column)
            if name is not None:
                box.setCurrentIndex(box.findData(name))
            box.blockSignals(False)


class ModelControls(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Model", parent)
        form = QFormLayout()
        self.k = _spin(1, 20, 3, "Number of mixture components EM fits")
        form.addRow("Components k", self.k)
        self.covariance = _combo(
            COVARIANCE_LABELS,
            "Shape of each component: full ellipses, axis-aligned (diagonal), circles (spherical), "
            "or one shared ellipse (tied)",
        )
        form.addRow("Covariance", self.covariance)
        self.init = _combo(
            INIT_LABELS,
            "How the first mixture is chosen; 'random (the article's)' draws weights, means and "
            "covariances at random as the article does",
        )
        form.addRow("Initialisation", self.init)
        self.seed = _spin(0, 2**31 - 1, 0, "Seed of the initialisation: same seed, same start")
        form.addRow("Seed", self.seed)
        self.tol = ComboBox()
        self.tol.setEditable(True)
        self.tol.addItems(TOLERANCES)
        # the list offers values; what is typed is taken as typed (no completion to a listed
        # value: '1e-1' must not become 1e-10), and Enter does not add it to the list
        self.tol.setCompleter(None)
        self.tol.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # no validator: it would silently keep a half-typed '1e' in the box when the focus
        # leaves; the window refuses text that is not a number with a message instead
        self.tol.setToolTip("Converged when the mean log-likelihood per point changes by less than this")
        form.addRow("Tolerance", self.tol)
        self.max_iter = _spin(1, 100_000, 1000, "Stop after this many iterations even if not converged", 10)
        form.addRow("Max iterations", self.max_iter)
        self.setLayout(form)

    def settings(self, reg_covar=None) -> Settings:
        """The settings the widgets show (raises ValueError for a tolerance that is not a number)."""
        text = self.tol.currentText().strip()
        try:
            tol = float(text)
        except ValueError:
            raise ValueError(f"tolerance {text!r} is not a number; enter one like 1e-6") from None
        return Settings(
            k=self.k.value(),
            covariance=self.covariance.currentData(),
            init=self.init.currentData(),
            seed=self.seed.value(),
            tol=tol,
            max_iter=self.max_iter.value(),
            reg_covar=reg_covar,
        )

    def show_settings(self, settings: Settings):
        """Make the widgets show ``settings`` without emitting change signals."""
        for box, value in ((self.k, settings.k), (self.seed, settings.seed), (self.max_iter, settings.max_iter)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        select_data(self.covariance, settings.covariance)
        select_data(self.init, settings.init)
        self.tol.blockSignals(True)
        self.tol.setCurrentText(f"{settings.tol:g}")
        self.tol.blockSignals(False)


class RunControls(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Run", parent)
        layout = QVBoxLayout()
        buttons = QGridLayout()
        self.step = QPushButton("Step ▸")
        self.step.setToolTip(self.STEP_TIP)
        self.run = QPushButton("Run ▶")
        self.run.setToolTip(self.RUN_TIP)
        self.reset = QPushButton("Reset ⟲")
        self.reset.setToolTip(self.RESET_TIP)
        for column, button in enumerate((self.step, self.run, self.reset)):
            button.setMinimumHeight(34)
            buttons.addWidget(button, 0, column)
        layout.addLayout(buttons)
        speed_row = QHBoxLayout()
        speed_row.addWidget(QLabel("Speed"))
        self.speed = Slider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(2)
        self.speed.setPageStep(1)
        self.speed.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.speed.setToolTip("Iterations per second while running: from 1 to as fast as EM goes (+ and −)")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(60)
        speed_row.addWidget(self.speed, 1)
        speed_row.addWidget(self.speed_label)
        layout.addLayout(speed_row)
        history_row = QHBoxLayout()
        history_row.addWidget(QLabel("History"))
        self.history = Slider(Qt.Orientation.Horizontal)
        self.history.setRange(0, 0)
        self.history.setPageStep(1)
        self.history.setToolTip(
            "Look back at any earlier iteration (when EM is not running; Left and Right arrows, Home, End); "
            "Step and Run carry on from the newest"
        )
        self.history_label = QLabel("0 / 0")
        self.history_label.setMinimumWidth(self.history_label.fontMetrics().horizontalAdvance("100000 / 100000"))
        history_row.addWidget(self.history, 1)
        history_row.addWidget(self.history_label)
        layout.addLayout(history_row)
        toggles = QHBoxLayout()
        self.hard_labels = QCheckBox("Hard labels")
        self.hard_labels.setToolTip(
            "Colour each point by its most likely component instead of blending the colours by responsibility (H)"
        )
        self.third_ellipse = QCheckBox("3σ ellipses")
        self.third_ellipse.setToolTip("Also draw the 3 standard deviation ellipse of each component (dotted)")
        self.density = QCheckBox("Density")  # short: the row must fit a narrow side panel
        self.density.setToolTip("Shade the mixture's log-density under the points, darkest at the peaks (D)")
        toggles.addWidget(self.hard_labels)
        toggles.addWidget(self.third_ellipse)
        toggles.addWidget(self.density)
        layout.addLayout(toggles)
        self.zoom_curve = QCheckBox("Zoom the curve on the end")
        self.zoom_curve.setToolTip(
            "Fit the log-likelihood axis to the later half of the iterations; earlier ones below it "
            "are marked on the bottom edge (Z)"
        )
        layout.addWidget(self.zoom_curve)
        self.setLayout(layout)
        self.speed.valueChanged.connect(self._show_speed)
        self._show_speed(self.speed.value())

    def interval(self) -> float:
        """Seconds per iteration for the slider's position (0: as fast as possible)."""
        rate = SPEEDS[self.speed.value()]
        return 1.0 / rate if rate else 0.0

    def _show_speed(self, position):
        rate = SPEEDS[position]
        self.speed_label.setText(f"{rate} it/s" if rate else "max")

    STEP_TIP = "One EM iteration: an E-step and an M-step (Right arrow)"
    RUN_TIP = "Iterate until converged, from where you are (Space; Space again pauses)"
    RESET_TIP = "Back to iteration 0 with the same start (R)"

    def show_actions(self, running: bool, *, cannot_step: str = "", cannot_run: str = "", cannot_reset: str = ""):
        """Enable what can act now; a button that cannot says why in its tooltip.

        ``cannot_*`` is the reason a button cannot act ("" when it can).
        """
        self.run.setText("Pause ❚❚" if running else "Run ▶")
        for button, why, tip in (
            (self.step, cannot_step, self.STEP_TIP),
            (self.run, "" if running else cannot_run, "Pause after the current iteration (Space)" if running
             else self.RUN_TIP),
            (self.reset, cannot_reset, self.RESET_TIP),
        ):
            button.setEnabled(not why)
            button.setToolTip(f"{tip}. Not now: {why}" if why else tip)
        self.history.setEnabled(not running)

    def show_history(self, shown: int, newest: int):
        """Place the history slider on iteration ``shown`` of ``newest`` without emitting signals."""
        self.history.blockSignals(True)
        self.history.setRange(0, newest)
        self.history.setValue(shown)
        self.history.blockSignals(False)
        self.history_label.setText(f"{shown} / {newest}")

