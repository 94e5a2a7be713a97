"""Many points as a density image: measured against the view's own mapping, switched at the
threshold and said so, chosen from the View menu, and used by `emviz render` too."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF

from emviz.data import generate
from emviz.session import Settings
from emviz.ui import canvas as canvas_module
from emviz.ui import palette
from emviz.ui.canvas import MixtureCanvas
from emviz.ui.pointdensity import DENSITY_THRESHOLD, LIGHT_DENSE
from emviz.ui.render import drawn_window, image_rgb
from emviz.ui.window import MainWindow

CENTRES = np.array([[-3.0, 0.0], [2.0, 2.0], [1.0, -3.0]])
PER_CLUSTER = 60_000


def clusters(spread=0.03, seed=0):
    rng = np.random.default_rng(seed)
    points = np.concatenate([c + spread * rng.standard_normal((PER_CLUSTER, 2)) for c in CENTRES])
    labels = np.repeat(np.arange(len(CENTRES)), PER_CLUSTER)
    return points, labels


def grab(widget):
    return image_rgb(widget.grab().toImage()).astype(int)


def device(canvas, xy):
    """Data coordinates -> pixel coordinates in the canvas's grabbed image (a pixel's centre is +0.5)."""
    view = canvas.getPlotItem().getViewBox()
    offset = canvas.viewport().mapTo(canvas, QPoint(0, 0))
    p = view.mapViewToDevice(QPointF(float(xy[0]), float(xy[1])))
    return np.array([p.x() + offset.x(), p.y() + offset.y()])


def darkest_centre(rgb, at, reach=12, share=0.0):
    """The centre of the darkest pixels within ``reach`` of ``at`` (the darkest ``share`` of
    them, at least the darkest one), and the colour of the darkest."""
    x0, y0 = int(at[0]) - reach, int(at[1]) - reach
    patch = rgb[y0 : y0 + 2 * reach + 1, x0 : x0 + 2 * reach + 1]
    lightness = patch.sum(axis=2)
    ys, xs = np.nonzero(lightness <= max(lightness.min(), np.quantile(lightness, share)))
    darkest = np.unravel_index(lightness.argmin(), lightness.shape)
    colour = patch[darkest]
    return np.array([x0 + xs.mean() + 0.5, y0 + ys.mean() + 0.5]), colour


def expected_colour(i):
    c = palette.rgb(len(CENTRES))[i]
    return 255 - (255 - c) * (1 - LIGHT_DENSE)


@pytest.fixture
def density_canvas(qtbot):
    points, labels = clusters()
    canvas = MixtureCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.set_data(points, ("x", "y"))
    colours = palette.point_colors(np.eye(len(CENTRES))[:, labels], hard=True)
    canvas.point_layer.set_colors(colours)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


def test_the_densest_pixels_sit_where_the_view_maps_the_cluster_centres(qtbot, density_canvas):
    canvas = density_canvas
    assert len(canvas._points_xy) > DENSITY_THRESHOLD and canvas.drawn_as_density
    assert not canvas.points.isVisible() and canvas.density_points.isVisible()
    canvas.density_points.synchronous = True
    rgb = grab(canvas)
    counts, (x0, y0) = canvas.density_points.counts()
    assert counts.sum() == len(canvas._points_xy)  # every point binned once: the view shows them all
    for i, centre in enumerate(CENTRES):
        at = device(canvas, centre)
        found, colour = darkest_centre(rgb, at)
        assert np.hypot(*(found - at)) <= 1.5, (i, found, at)
        np.testing.assert_allclose(colour, expected_colour(i), atol=12)
        # the raw bins: the fullest one holds the centre
        near = counts[int(at[1] - y0) - 8 : int(at[1] - y0) + 9, int(at[0] - x0) - 8 : int(at[0] - x0) + 9]
        row, col = np.unravel_index(near.argmax(), near.shape)
        fullest = np.array([x0 + int(at[0] - x0) - 8 + col + 0.5, y0 + int(at[1] - y0) - 8 + row + 0.5])
        assert np.hypot(*(fullest - at)) <= 2.0, (i, fullest, at)
    # empty places stay the background (white, or the grey of a grid line)
    empty = device(canvas, (-1.5, -2.0)).astype(int)
    assert np.ptp(rgb[empty[1] - 3 : empty[1] + 4, empty[0] - 3 : empty[0] + 4], axis=2).max() < 8


def test_a_zoom_bins_again_in_the_background(qtbot, density_canvas):
    canvas = density_canvas
    layer = canvas.density_points
    view = canvas.getPlotItem().getViewBox()
    grab(canvas)  # the first image, binned in the background
    assert layer.wait_idle()
    view.setRange(xRange=(1.0, 3.0), yRange=(1.0, 3.0), padding=0)  # a closer look at one cluster
    grab(canvas)  # drawn with the previous image stretched; asks for a new one
    assert layer.wait_idle()
    rgb = grab(canvas)
    at = device(canvas, CENTRES[1])
    found, colour = darkest_centre(rgb, at, reach=40, share=0.01)
    assert np.hypot(*(found - at)) <= 2.0
    np.testing.assert_allclose(colour, expected_colour(1), atol=12)
    counts, _ = layer.counts()
    assert counts.sum() < len(canvas._points_xy)  # only what the view shows: the zoom re-binned


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(canvas_module, "DENSITY_THRESHOLD", 1000)
    return 1000


def test_the_switch_happens_at_the_threshold_and_is_shown(qtbot, small_threshold):
    window = MainWindow(generate(small_threshold, 3, seed=3), Settings(k=3))
    qtbot.addWidget(window)
    window.show()
    canvas = window.canvas
    assert not canvas.drawn_as_density and canvas.points.isVisible()
    assert not canvas.point_note.isVisible()
    window.session.change(generate(small_threshold + 1, 3, seed=3))
    window.show_data()
    assert canvas.drawn_as_density and not canvas.points.isVisible()
    assert canvas.point_note.isVisible()
    assert canvas.point_note.textItem.toPlainText() == "1,001 points: drawn as a density image"
    window.draw_step(-1)
    canvas.density_points.synchronous = True
    rgb = grab(canvas)
    # the note sits inside the view, in its top right corner, and is drawn
    note = canvas.point_note.mapRectToScene(canvas.point_note.boundingRect())
    view = canvas.getPlotItem().getViewBox().sceneBoundingRect()
    assert view.contains(note)
    corner = rgb[int(note.top()) + 2 : int(note.bottom()) - 2, int(note.left()) + 2 : int(note.right()) - 2]
    assert (corner.sum(axis=2) < 200).any()  # dark type on the note
    # the user's choice wins, and the note says where it was made
    window.point_mode_actions["dots"].trigger()
    assert not canvas.drawn_as_density and canvas.points.isVisible()
    assert canvas.point_note.textItem.toPlainText() == "1,001 points: drawn as dots (View ▸ Points)"
    window.point_mode_actions["auto"].trigger()
    assert canvas.drawn_as_density
    window.runner.stop()


def test_the_density_image_shows_the_colours_the_worker_made(qtbot, small_threshold):
    window = MainWindow(generate(5000, 3, seed=3), Settings(k=3))
    qtbot.addWidget(window)
    window.show()
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=60_000)
    session = window.session
    expected = palette.point_colors(session.responsibilities(session.last), hard=False)
    np.testing.assert_array_equal(window.canvas.density_points.colors(), expected)
    # at rest, hard labels are coloured off the GUI thread and then drawn
    window.run_controls.hard_labels.setChecked(True)
    window.canvas.grab()
    assert window.canvas.density_points.wait_idle()
    expected = palette.point_colors(session.responsibilities(session.last), hard=True)
    np.testing.assert_array_equal(window.canvas.density_points.colors(), expected)
    window.point_mode_actions["density"].trigger()  # and a small data set can be drawn so too
    window.session.change(generate(500, 3, seed=3))
    window.show_data()
    assert window.canvas.drawn_as_density
    window.runner.stop()


def test_render_uses_the_same_switch(qtbot, small_threshold):
    points, _ = clusters(spread=0.3)
    from emviz.data import Dataset

    dataset = Dataset(points[::100], ("x", "y"), "three clusters", "test", origin="generated")
    with drawn_window(dataset, Settings(k=3), iteration=1) as window:
        assert window.canvas.drawn_as_density
        rgb = grab(window.canvas)
        at = device(window.canvas, CENTRES[0])
        assert rgb[int(at[1]) - 3 : int(at[1]) + 4, int(at[0]) - 3 : int(at[0]) + 4].sum(axis=2).min() < 600
