"""The window as a user meets it: the whole curve, keys, typed values, the wheel, the table,
the window's size on small screens, and presentation mode. Real widgets, real key events."""

import functools

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from emviz.data import Dataset, generate
from emviz.session import Settings
from emviz.ui import palette
from emviz.ui.controls import SPEEDS
from emviz.ui.likelihood import zoom_window
from emviz.ui.window import PRESENTATION_SCALE, initial_size

MAX_SPEED = SPEEDS.index(0)


@pytest.fixture
def make_window(make_window):
    """This module's windows take key presses: they have the focus, at 1500x950 unless told otherwise."""
    return functools.partial(make_window, size=(1500, 950), activate=True)


def run_to_the_end(qtbot, window):
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)


def press(qtbot, key, widget=None):
    """A key pressed where the focus is, as the keyboard would deliver it."""
    qtbot.keyClick(widget or QApplication.focusWidget(), key)


# --------------------------------------------------------------------------- the curve


def test_the_whole_curve_is_on_the_plot_and_zoom_marks_what_it_leaves_out(qtbot, window):
    run_to_the_end(qtbot, window)
    plot = window.likelihood
    vb = plot.getPlotItem().getViewBox()
    x, y = plot.curve.getData()
    assert len(x) == 43 and y[0] < -190  # the article's start at −191.7, far below its end at −4.05
    (x0, x1), (y0, y1) = vb.viewRange()
    assert np.all((x0 <= x) & (x <= x1)) and np.all((y0 <= y) & (y <= y1))
    assert plot.clipped_count() == 0 and plot.clipped_note.toPlainText() == ""

    press(qtbot, Qt.Key.Key_Z, window.plots_panel)
    assert window.run_controls.zoom_curve.isChecked() and window.zoom_action.isChecked()
    (x0, x1), (y0, y1) = vb.viewRange()
    tail = y[-zoom_window(len(y)):]
    assert np.all((y0 <= tail) & (tail <= y1)) and np.all((x0 <= x) & (x <= x1))
    assert y1 - y0 < 0.1 * (y.max() - y.min())  # the rise near the end now fills the plot
    below = y < y0
    assert plot.clipped_count() == below.sum() > 0
    marks_x, marks_y = plot.clipped.getData()
    np.testing.assert_array_equal(marks_x, x[below])
    assert np.all((y0 <= marks_y) & (marks_y <= y1))  # the marks themselves are in view
    first, last = int(x[below][0]), int(x[below][-1])
    assert plot.clipped_note.toPlainText() == (
        f"▼ {below.sum()} iterations ({first}–{last}) below, down to −191.7"
    )
    press(qtbot, Qt.Key.Key_Z, window.plots_panel)  # and back to the whole curve
    (x0, x1), (y0, y1) = vb.viewRange()
    assert np.all((y0 <= y) & (y <= y1)) and plot.clipped_count() == 0


def test_the_viewed_iteration_is_marked_in_a_neutral_colour(qtbot, window):
    run_to_the_end(qtbot, window)
    window.run_controls.history.setValue(7)
    plot = window.likelihood
    spot = plot.current.points()[0]
    assert (spot.pos().x(), spot.pos().y()) == (7, window.session.history[7].log_likelihood)
    components = {QColor(*c.astype(int)).name() for c in palette.rgb(20)}
    colours = {spot.pen().color().name(), spot.brush().color().name(), plot.current_line.pen.color().name()}
    assert not colours & components
    assert all(QColor(c).saturation() < 30 for c in colours)  # grey, black or white


# --------------------------------------------------------------------------- keys and fields


def test_run_keys_work_from_buttons_and_boxes_that_are_not_being_typed_in(qtbot, window):
    m, d, r = window.model_controls, window.data_controls, window.run_controls
    m.covariance.setFocus()
    qtbot.waitUntil(m.covariance.hasFocus)
    press(qtbot, Qt.Key.Key_Right)  # a combo box would take the arrow as "next item"
    qtbot.waitUntil(lambda: window.session.last.iteration == 1)
    qtbot.waitUntil(lambda: not window.runner.running)
    assert window.session.settings.covariance == "full"
    d.generate.setFocus()
    press(qtbot, Qt.Key.Key_R)
    assert [s.iteration for s in window.session.history] == [0]
    press(qtbot, Qt.Key.Key_Space)  # a focused button would click itself on Space
    assert window.runner.running and window.session.dataset.name == "article"
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.runner.running)
    m.k.setFocus()  # focused but not typed in: the keys still drive the run
    qtbot.waitUntil(m.k.hasFocus)
    iterations = window.session.last.iteration
    press(qtbot, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.session.last.iteration == iterations + 1)
    assert m.k.value() == 3


def test_typing_owns_the_keys_until_enter_or_escape_leaves_the_field(qtbot, window):
    m = window.model_controls
    window.run_controls.step.click()
    qtbot.waitUntil(lambda: not window.runner.running and window.session.last.iteration == 1)
    m.seed.setFocus()
    qtbot.waitUntil(m.seed.hasFocus)
    m.seed.selectAll()
    qtbot.keyClicks(m.seed, "2")
    press(qtbot, Qt.Key.Key_R)  # goes to the box being typed in, not to Reset
    press(qtbot, Qt.Key.Key_Space)
    assert window.session.last.iteration == 1 and not window.runner.running
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not m.seed.hasFocus())
    assert window.session.settings.seed == 2 and m.seed.value() == 2
    assert window.keys.typing_in is None
    press(qtbot, Qt.Key.Key_Space)  # the field is left: Space runs again
    assert window.runner.running
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.runner.running)
    m.max_iter.setFocus()
    qtbot.waitUntil(m.max_iter.hasFocus)
    m.max_iter.selectAll()
    qtbot.keyClicks(m.max_iter, "500")
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not m.max_iter.hasFocus())
    assert window.session.settings.max_iter == 500  # leaving the field commits it, as a click away does
    window.run_controls.reset.click()
    press(qtbot, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.session.last.iteration == 1)


def test_the_tolerance_takes_exactly_what_was_typed(qtbot, window, errors):
    tol = window.model_controls.tol
    listed = [tol.itemText(i) for i in range(tol.count())]
    tol.lineEdit().setFocus()
    qtbot.waitUntil(tol.lineEdit().hasFocus)
    tol.lineEdit().selectAll()
    qtbot.keyClicks(tol.lineEdit(), "1e-1")  # a completer would have made it 1e-10
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not tol.lineEdit().hasFocus())
    assert window.session.settings.tol == 0.1 and tol.currentText() == "0.1"
    assert [tol.itemText(i) for i in range(tol.count())] == listed  # typed values are not added
    tol.lineEdit().setFocus()
    qtbot.waitUntil(tol.lineEdit().hasFocus)
    tol.lineEdit().selectAll()
    qtbot.keyClicks(tol.lineEdit(), "1e")
    press(qtbot, Qt.Key.Key_Tab)  # leaving a half-typed number: refused, said, and put back
    assert errors == ["tolerance '1e' is not a number; enter one like 1e-6"]
    assert window.session.settings.tol == 0.1 and tol.currentText() == "0.1"
    tol.setCurrentIndex(listed.index("1e-8"))  # picking from the list applies at once
    tol.activated.emit(listed.index("1e-8"))
    assert window.session.settings.tol == 1e-8


def test_the_wheel_changes_a_box_only_when_it_has_the_focus(qtbot, make_window):
    window = make_window(size=(1024, 640))
    combo = window.model_controls.covariance
    qtbot.waitUntil(lambda: window.side_panel.verticalScrollBar().maximum() > 0)  # the panel scrolls
    window.plots_panel.setFocus()

    def wheel(widget, notches):
        centre = QPointF(widget.width() / 2, widget.height() / 2)
        event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0), QPoint(0, -120 * notches),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(widget, event)
        return event.isAccepted()

    # the box leaves the event to its parents, which is how Qt lets the side panel scroll
    # (a synthesised event is not passed on: only the refusal can be seen here)
    assert not wheel(combo, 1)
    assert combo.currentData() == "full" and window.session.settings.covariance == "full"
    for box in (window.model_controls.k, window.data_controls.points, window.run_controls.speed):
        value = box.value()
        assert not wheel(box, 1)
        assert box.value() == value
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    assert wheel(combo, 1)
    assert combo.currentData() == "diag" and window.session.settings.covariance == "diag"


# --------------------------------------------------------------------------- the table


def number(text):
    return float(text.replace("−", "-"))


def cells_fit(table):
    metrics = table.fontMetrics()
    for j in range(table.columnCount()):
        width = table.columnWidth(j)
        header = table.horizontalHeaderItem(j).text()
        assert table.horizontalHeader().fontMetrics().horizontalAdvance(header) <= width
        for i in range(table.rowCount()):
            text = table.item(i, j).text()
            assert "…" not in text
            assert metrics.horizontalAdvance(text) + 6 <= width, (i, j, text, width)


def test_numbers_far_from_zero_are_readable_and_fit(qtbot, make_window):
    rng = np.random.default_rng(0)
    points = 1e9 + np.concatenate([rng.normal(0, 1e-3, (200, 2)), rng.normal(0, 1e-3, (200, 2)) + 0.01])
    window = make_window(Dataset(points, ("a", "b"), "far.csv", "far.csv", origin="csv"), Settings(k=2))
    run_to_the_end(qtbot, window)
    table, mixture = window.params, window.session.last.mixture
    for i in range(2):
        for j, column in ((0, 2), (1, 3)):
            shown = number(table.text(i, column))
            assert abs(shown - mixture.means[i, j]) < 1e-5  # a readable mean, not 1.e+09
        for column, (a, b) in zip((4, 5, 6), ((0, 0), (0, 1), (1, 1))):
            shown = number(table.text(i, column))
            assert shown == pytest.approx(mixture.covariances[i, a, b], rel=1e-3, abs=1e-9)
        assert number(table.text(i, 4)) > 0  # not the 0 of a fixed number of decimals
    cells_fit(table)


def test_real_units_and_twenty_components_fit_and_scroll(qtbot, make_window):
    rng = np.random.default_rng(1)
    points = np.column_stack([rng.normal(2533.0, 40.0, 500), rng.normal(164.9, 3.0, 500)])
    window = make_window(Dataset(points, ("mass", "height"), "units.csv", "units.csv", origin="csv"), Settings(k=3))
    cells_fit(window.params)
    assert window.params.text(0, 2).count(".") == 1 and len(window.params.text(0, 2)) <= 9
    data = generate(2000, 20, separation=4.0, seed=3)
    assert window._apply(data, Settings(k=20))
    table = window.params
    assert table.rowCount() == 20
    cells_fit(table)
    qtbot.waitUntil(lambda: table.verticalScrollBar().maximum() > 0)  # twenty rows scroll in the table


# --------------------------------------------------------------------------- the window's size


def visible_inside(window, widget):
    """Shown, and all of it inside the window (a scroll area is seen through its viewport)."""
    rect = widget.rect().translated(widget.mapTo(window, QPoint(0, 0)))
    seen = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
    return widget.isVisible() and window.rect().contains(rect) and not seen.visibleRegion().isEmpty()


def test_opens_at_the_size_of_the_screen():
    assert initial_size(QSize(1920, 1080)) == QSize(1500, 950)
    assert initial_size(QSize(1280, 720)) == QSize(1280, 720)
    assert initial_size(QSize(1024, 640)) == QSize(1024, 640)


@pytest.mark.parametrize("size", [(1280, 720), (1024, 640)])
def test_everything_that_runs_a_lecture_is_visible_on_a_small_screen(qtbot, make_window, size):
    window = make_window(size=size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    r = window.run_controls
    for widget in (window.canvas, window.likelihood, window.status_state, window.status_iteration,
                   window.header, r.step, r.run, r.reset, r.speed, r.history):
        assert visible_inside(window, widget), widget
    canvas_area = window.canvas.width() * window.canvas.height()
    for other in (window.likelihood, window.side_panel):
        assert canvas_area > other.width() * other.height()
    # the side panel scrolls down, and nothing in it is cut at the side
    side = window.side_panel
    assert side.widget().width() <= side.viewport().width()
    assert side.widget().minimumSizeHint().width() <= side.viewport().width()


def test_the_points_box_shows_the_real_count_of_a_file(qtbot, window, tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("x,y\n0,0\n1,0\n0,1\n")
    window.model_controls.k.setValue(2)
    assert window.load_csv(str(path))
    points = window.data_controls.points
    assert window.session.dataset.n == 3 and points.value() == 3 and not points.isEnabled()
    window.data_controls.generate.click()  # generated data from here go back to the box's range
    assert window.session.dataset.n == 10 and points.isEnabled() and points.minimum() == 10


# --------------------------------------------------------------------------- presentation mode


def tick_points(plot):
    item = plot.getPlotItem()
    return [item.getAxis(name).style["tickFont"].pointSizeF() for name in ("left", "bottom")]


def test_presentation_mode_is_large_full_screen_and_all_on_the_keyboard(qtbot, window):
    assert max(tick_points(window.likelihood) + tick_points(window.canvas)) < 18
    window.presentation_action.trigger()  # View > Presentation mode, or F11
    assert window.presenting and window.isFullScreen()
    for plot in (window.likelihood, window.canvas):
        assert min(tick_points(plot)) >= 18
    assert window.likelihood.curve.opts["pen"].widthF() == pytest.approx(2.5 * PRESENTATION_SCALE)
    assert window.header.font().pointSizeF() >= 18  # 30 pt, or less where the line would not fit
    assert not window.model_controls.isVisible() and not window.data_controls.isVisible()
    assert not window.params_box.isVisible() and not window.menuBar().isVisible()
    # the run controls in large type beside the canvas where the screen is wide enough
    # (1920 px: looked at under Xvfb); on this 800 px test screen the keyboard does it all
    wide = window.side_panel.isVisible()
    assert wide == (window._side_need() <= 0.3 * window.width())
    for button in (window.run_controls.step, window.run_controls.run, window.run_controls.reset):
        assert button.font().pointSizeF() >= 18
        assert visible_inside(window, button) if wide else not button.isVisible()
    assert visible_inside(window, window.canvas) and visible_inside(window, window.likelihood)
    assert "F11 or Esc leaves it" in window.notice.text()
    press(qtbot, Qt.Key.Key_PageDown, window.plots_panel)  # a presenter's remote: next
    qtbot.waitUntil(lambda: window.session.last.iteration == 1 and not window.runner.running)
    press(qtbot, Qt.Key.Key_PageUp, window.plots_panel)  # previous: looks back
    assert window.run_controls.history.value() == 0 and "Iteration 0" in window.header.text()
    press(qtbot, Qt.Key.Key_Z, window.plots_panel)
    assert window.likelihood.zoom_end
    press(qtbot, Qt.Key.Key_Escape, window.plots_panel)
    assert not window.presenting and not window.isFullScreen()
    assert window.model_controls.isVisible() and window.menuBar().isVisible() and window.side_panel.isVisible()
    assert max(tick_points(window.likelihood) + tick_points(window.canvas)) < 18
    qtbot.keyClick(window.plots_panel, Qt.Key.Key_F11)
    assert window.presenting
    qtbot.keyClick(window.plots_panel, Qt.Key.Key_F11)
    assert not window.presenting


def canvas_sizes(canvas):
    """What a hall reads on the canvas: legend type, mean label type, marker and 1-sigma line sizes."""
    legend_pt = float(canvas.legend.items[0][1].opts["size"].removesuffix("pt"))
    return (legend_pt, canvas._labels[0].textItem.font().pointSizeF(), canvas.means.opts["size"],
            canvas.ellipses.pen(0, 0).widthF())


def test_presentation_mode_scales_the_canvas_legend_labels_markers_and_lines(qtbot, window):
    window.step()
    qtbot.waitUntil(lambda: window.session.last.iteration == 1 and not window.runner.running)
    desk = canvas_sizes(window.canvas)
    window.set_presentation(True)
    hall = canvas_sizes(window.canvas)
    assert hall == pytest.approx([size * PRESENTATION_SCALE for size in desk])
    assert hall[0] >= 18 and hall[1] >= 18  # the legend and the mean labels read from the back
    # the components were rebuilt at the new size and show the same iteration
    assert window.canvas.ellipses.k == window.session.last.mixture.k
    assert window.canvas.ellipses.curve(0, 0)[0].size > 0
    window.set_presentation(False)
    assert canvas_sizes(window.canvas) == pytest.approx(desk)


def test_show_density_from_the_box_the_menu_and_the_key(qtbot, window):
    r = window.run_controls
    assert not window.canvas.show_density
    r.density.setChecked(True)
    assert window.canvas.show_density and window.density_action.isChecked()
    press(qtbot, Qt.Key.Key_D, window.plots_panel)
    assert not window.canvas.show_density and not r.density.isChecked()
    window.density_action.trigger()
    assert window.canvas.show_density and r.density.isChecked()


@pytest.mark.parametrize("scale", [1.0, PRESENTATION_SCALE])
def test_the_curve_title_fits_beside_its_axis_after_any_resize(qtbot, scale):
    """The vertical title is the longest of TITLES that fits the axis's height; measured after
    the plot is laid out at its new size (presentation mode on a 1920x1080 screen once showed
    "log-likelihoo": the title had been chosen for the old, taller layout)."""
    from emviz.ui.likelihood import LikelihoodPlot

    plot = LikelihoodPlot()
    qtbot.addWidget(plot)
    plot.set_scale(scale)
    plot.set_history(np.arange(5), np.array([-191.7, -20.0, -5.0, -4.1, -4.05]))
    plot.show()
    seen = set()
    for height in (700, 330, 240, 160, 500, 120, 900):
        plot.resize(1400, height)
        qtbot.waitUntil(lambda: abs(plot.getPlotItem().getViewBox().height() - (height - 60 * scale)) < 80 * scale)
        QApplication.processEvents()
        axis = plot.getPlotItem().getAxis("left")
        title = axis.labelText
        seen.add(title)
        drawn, room = axis.label.sceneBoundingRect(), axis.sceneBoundingRect()  # turned: its length is its height
        assert drawn.top() >= room.top() - 0.5 and drawn.bottom() <= room.bottom() + 0.5, (height, title, drawn, room)
        assert abs(drawn.center().y() - room.center().y()) <= 1.0, (height, title, drawn, room)
        longer = LikelihoodPlot.TITLES[: LikelihoodPlot.TITLES.index(title)]
        for candidate in longer:  # and no longer title would have fitted
            axis.setLabel(candidate, **plot._title_style)
            assert axis.label.boundingRect().width() > axis.sceneBoundingRect().height(), (height, candidate)
        axis.setLabel(title, **plot._title_style)
    assert len(seen) >= 2  # the sizes above do need different titles


@pytest.mark.parametrize("curve", ["rise", "noisy", "gap"])
def test_a_long_run_draws_its_line_through_a_few_points_a_pixel_column_and_looks_the_same(qtbot, curve):
    """20 000 iterations on an 830 px plot: the curve item strokes a few points per pixel column
    (line_points) instead of every iteration, and the drawn line is where the whole one is: every
    ink pixel of either picture is within one pixel of the other's ink; the same after a zoom."""
    from scipy import ndimage

    from emviz.ui.likelihood import LikelihoodPlot
    from emviz.ui.render import image_rgb

    n = 20_000
    iterations = np.arange(n, dtype=float)
    values = -4.0 - 3.0 * np.exp(-iterations / 2500) - 0.5 * np.exp(-iterations / 7)
    if curve == "noisy":
        values += 0.05 * np.random.default_rng(0).normal(size=n)
    if curve == "gap":
        values += 0.05 * np.sin(iterations / 1.7)
        values[6000:6005] = np.nan

    def drawn(thin, zoom=False):
        plot = LikelihoodPlot()
        qtbot.addWidget(plot)
        plot.resize(830, 210)
        plot.show()
        plot.thin_long_runs = thin
        plot.set_history(iterations, values, current=n // 2)
        if zoom:
            plot.getPlotItem().getViewBox().setXRange(5000, 7000, padding=0)
        ink = image_rgb(plot.grab().toImage()).astype(int).sum(axis=2) < 200
        return ink, len(plot.curve.getData()[0])

    for zoom in (False, True):
        every, all_points = drawn(False, zoom)
        thinned, kept = drawn(True, zoom)
        assert all_points == n and kept < (n if zoom else 4 * 830)
        near = np.ones((3, 3), bool)
        assert not (thinned & ~ndimage.binary_dilation(every, near)).any()
        assert not (every & ~ndimage.binary_dilation(thinned, near)).any()
        assert (thinned != every).sum() < 0.05 * every.sum()  # measured: 0.1-3 %, a pixel's shift at a column's edge
