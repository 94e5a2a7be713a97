"""The canvas on its own: colours for any k, a legend that covers no data, labels that do not overlap."""

from __future__ import annotations

import numpy as np
import pytest

from emviz.gmm import EMStep, Mixture
from emviz.ui import palette


def cielab(rgb):
    """sRGB (m, 3) in 0..255 -> CIELAB (m, 3), D65 white."""
    c = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124564, 0.3575761, 0.1804375],
                             [0.2126729, 0.7151522, 0.0721750],
                             [0.0193339, 0.1191920, 0.9503041]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def test_twenty_distinct_colours_okabe_ito_first():
    colours = palette.rgb(20)
    assert palette.DISTINCT >= 20
    assert len({tuple(c) for c in colours}) == 20
    lab = cielab(colours)
    distance = np.sqrt(((lab[:, None] - lab[None]) ** 2).sum(axis=2))
    distance[np.diag_indices(20)] = np.inf
    assert distance.min() > 10  # CIE76 ΔE: no near-identical pair
    okabe_ito = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    assert [palette.qcolor(i).name().upper() for i in range(6)] == okabe_ito
    white, ink = cielab([[255, 255, 255]])[0], cielab([palette.INK.getRgb()[:3]])[0]
    assert np.sqrt(((lab - white) ** 2).sum(axis=1)).min() > 20  # every colour shows on white
    assert np.sqrt(((lab - ink) ** 2).sum(axis=1)).min() > 10  # and differs from the ink of text and rims


def _mixture(means, scale=0.05):
    k = len(means)
    return Mixture(np.full(k, 1.0 / k), np.asarray(means, dtype=float), np.repeat(np.eye(2)[None] * scale, k, axis=0))


@pytest.fixture
def canvas(qtbot):
    from emviz.ui.canvas import MixtureCanvas

    canvas = MixtureCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(900, 560)
    canvas.show()
    return canvas


def _show(canvas, points, mixture):
    canvas.set_data(points, ("x", "y"))
    canvas.show_step(EMStep(0, mixture, 0.0, float("nan"), False),
                     lambda rows: np.full((mixture.k, len(points) if rows is None else len(rows)), 1.0 / mixture.k))
    canvas.grab()


@pytest.mark.parametrize("k", [3, 20])
def test_the_legend_covers_no_point(canvas, k):
    """Points fill the whole view, corners included: none lies under the legend."""
    from PySide6.QtCore import QPointF

    rng = np.random.default_rng(0)
    points = np.vstack([rng.uniform(0, 10, (3000, 2)), [[0, 0], [0, 10], [10, 0], [10, 10]]])
    _show(canvas, points, _mixture(rng.uniform(0, 10, (k, 2))))
    legend = canvas.legend.mapRectToScene(canvas.legend.boundingRect())
    legend = canvas.mapFromScene(legend).boundingRect()
    assert legend.width() > 50 and legend.height() > 15  # it is there, entries for all k
    assert len(canvas.legend.items) == k
    view = canvas.getPlotItem().getViewBox()
    shown = canvas.mapFromScene(view.mapRectToScene(view.boundingRect())).boundingRect()
    assert not legend.intersects(shown)
    corners = [view.mapViewToDevice(QPointF(x, y)) for x, y in points]
    radius = canvas.points.radius + 1
    under = [p for p in corners if legend.adjusted(-radius, -radius, radius, radius).contains(p.toPoint())]
    assert not under
    assert legend.right() <= canvas.width()


def test_labels_of_coincident_means_do_not_overlap(canvas):
    points = np.random.default_rng(1).normal(size=(200, 2))
    _show(canvas, points, _mixture([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.5, 1.0]]))
    rects = [label.mapRectToScene(label.textItem.mapRectToParent(label.textItem.boundingRect()))
             for label in canvas._labels]
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not rects[i].intersects(rects[j]), (i, j)
    # and none covers its mean's marker (a disc of 26 px around the mean)
    view = canvas.getPlotItem().getViewBox()
    for rect, mean in zip(rects, [[0, 0]] * 3 + [[1.5, 1.0]]):
        from PySide6.QtCore import QPointF, QRectF

        centre = view.mapViewToScene(QPointF(*mean))
        marker = QRectF(centre.x() - 9, centre.y() - 9, 18, 18)
        assert not rect.intersects(marker)


def test_the_point_layer_colours_what_it_shows_first_and_the_rest_on_sight(canvas):
    """The colouring policy is the layer's: a new colouring colours the points on show at once."""
    from emviz.ui.points import colouring

    rng = np.random.default_rng(2)
    points = rng.normal(size=(5000, 2))
    canvas.set_data(points, ("x", "y"))
    canvas.getPlotItem().getViewBox().setRange(xRange=(-0.3, 0.3), yRange=(-0.3, 0.3), padding=0)
    canvas.grab()
    shown = canvas.points.visible()
    assert 0 < len(shown) < len(points) // 2
    resp = rng.dirichlet([1, 1, 1], size=len(points)).T.copy()
    asked = []

    def responsibilities(rows):
        asked.append(None if rows is None else len(rows))
        return resp if rows is None else resp[:, rows]

    canvas.points.set_colouring(colouring(responsibilities, hard=True))
    assert asked == [len(shown)]  # only the points on show
    expected = palette.point_colors(resp, hard=True)
    np.testing.assert_array_equal(canvas.points.colors()[shown], expected[shown])
    canvas.getPlotItem().getViewBox().setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)
    canvas.grab()
    now = canvas.points.visible()
    np.testing.assert_array_equal(canvas.points.colors()[now], expected[now])
    soft = colouring(responsibilities, hard=False)(None)
    np.testing.assert_array_equal(soft, palette.point_colors(resp, hard=False))
    assert len(np.unique(soft)) > len(np.unique(expected)) == 3


def _image(widget):
    from emviz.ui.render import image_rgb

    return image_rgb(widget.grab().toImage()).astype(float)


@pytest.mark.parametrize("hard", [True, False])
@pytest.mark.parametrize("n", [100, 1_000_000])
def test_the_fit_stands_out_on_a_cloud_of_its_own_colour(canvas, n, hard):
    """Along the 1-sigma ellipse, the curve differs from what lies beside it and from the cloud
    beyond; the mean marker differs from its surroundings. Measured in CIELAB on the grab."""
    from PySide6.QtCore import QPointF

    from emviz.gmm import responsibilities
    from emviz.ui.canvas import ellipse_points

    mixture = Mixture(np.array([1.0]), np.zeros((1, 2)), np.array([[[1.0, 0.3], [0.3, 0.6]]]))
    points = np.random.default_rng(3).multivariate_normal(mixture.means[0], mixture.covariances[0], n)
    canvas.hard_labels = hard
    canvas.set_data(points, ("x", "y"))
    resp = responsibilities(points, mixture).T.copy()
    canvas.show_step(EMStep(0, mixture, 0.0, float("nan"), False), lambda rows: resp if rows is None else resp[:, rows])
    lab = cielab(_image(canvas).reshape(-1, 3)).reshape(canvas.height(), canvas.width(), 3)
    view = canvas.getPlotItem().getViewBox()
    one_sigma = ellipse_points(mixture.means[0], mixture.covariances[0], 1.0).T
    curve = np.array([(p.x(), p.y()) for p in (view.mapViewToDevice(QPointF(x, y)) for x, y in one_sigma)])
    centre = view.mapViewToDevice(QPointF(0.0, 0.0))
    tangent = np.roll(curve, -1, axis=0) - np.roll(curve, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    normal *= np.sign(((curve - [centre.x(), centre.y()]) * normal).sum(axis=1))[:, None]  # outwards

    def at(xy):
        ij = np.floor(xy).astype(int)
        return lab[ij[:, 1], ij[:, 0]]

    line = at(curve[::4])
    beside = at(curve[::4] + 3 * normal[::4])  # just outside the 3.5 px stroke, on its halo
    cloud = at(curve[::4] + 10 * normal[::4])  # the points beyond
    delta = lambda a, b: np.median(np.sqrt(((a - b) ** 2).sum(axis=1)))  # noqa: E731
    assert delta(line, beside) > 30, delta(line, beside)
    assert delta(line, cloud) > 20, delta(line, cloud)
    marker = lab[int(centre.y()), int(centre.x())]
    ring = lab[int(centre.y()), int(centre.x()) + 11]
    assert np.sqrt(((marker - ring) ** 2).sum()) > 40


def test_log_density_is_the_mixtures():
    from scipy.stats import multivariate_normal

    from emviz.ui.density import log_density

    mixture = Mixture(np.array([0.2, 0.5, 0.3]), np.array([[0.0, 0.0], [3.0, 1.0], [1e3, -2e3]]),
                      np.array([[[1.0, 0.9], [0.9, 1.0]], [[0.5, 0.0], [0.0, 2.0]], [[1e-4, 0.0], [0.0, 1e-6]]]))
    xy = np.random.default_rng(4).normal(size=(500, 2)) * 3
    xy[:5] = mixture.means[2] + [[0, 0], [1e-3, 0], [0, 1e-3], [1e-2, 1e-3], [-1e-2, 0]]
    expected = np.log(sum(w * multivariate_normal(m, c).pdf(xy)
                          for w, m, c in zip(mixture.weights, mixture.means, mixture.covariances)))
    got = log_density(mixture, xy[:, 0], xy[:, 1])
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10)
    assert np.all(np.isfinite(got))  # far in the tails too, where the densities underflow to 0


@pytest.mark.parametrize("view", ["fit", "pan"])
def test_the_density_shade_peaks_at_the_mean(canvas, view):
    """k = 1: the darkest shade, located in the grab, is at the mean's pixel; it follows the step."""
    from PySide6.QtCore import QPointF

    points = np.random.default_rng(5).normal(size=(300, 2)) * [2.0, 1.0]
    mixture = _mixture([[0.7, -0.4]], scale=0.5)
    _show(canvas, points, mixture)
    assert not canvas.show_density
    canvas.set_show_density(True)
    box = canvas.getPlotItem().getViewBox()
    if view == "pan":
        shown = box.viewRect()
        box.setRange(xRange=(shown.left() + 1.5, shown.right() + 1.5), yRange=(shown.top() - 0.8, shown.bottom() - 0.8),
                     padding=0)
    canvas.grab()
    # look at the shade alone: everything else on the canvas hidden
    others = [canvas.points, canvas.means, *canvas._labels, canvas.ellipses]
    for item in others:
        item.setVisible(False)
    canvas.getPlotItem().showGrid(x=False, y=False)  # the grid lines show through the shade
    def darkest():
        """The darkest shade inside the view, and the centre of the pixels that have it."""
        darkness = 765 - _image(canvas).sum(axis=2)
        left, top = box.mapToDevice(box.boundingRect().topLeft()).toTuple()
        right, bottom = box.mapToDevice(box.boundingRect().bottomRight()).toTuple()
        inside = np.zeros_like(darkness, dtype=bool)
        # off the axes and their ticks, which point 5 px into the view when the grid is off
        inside[int(top) + 8: int(bottom) - 7, int(left) + 8: int(right) - 7] = True
        darkness[~inside] = 0
        ys, xs = np.nonzero(darkness >= darkness.max() - 2)
        return darkness.max(), xs.mean() + 0.5, ys.mean() + 0.5

    peak, x, y = darkest()
    assert peak > 200  # it is drawn: the peak is a strong shade
    centre = box.mapViewToDevice(QPointF(0.7, -0.4))
    assert abs(x - centre.x()) <= 2 and abs(y - centre.y()) <= 2
    # live: the next step moves it
    for item in others:
        item.setVisible(True)
    moved = _mixture([[-1.0, 0.5]], scale=0.5)
    canvas.show_step(EMStep(1, moved, 0.0, 0.0, False), lambda rows: np.ones((1, 300 if rows is None else len(rows))))
    for item in others:
        item.setVisible(False)
    _, x, y = darkest()
    centre = box.mapViewToDevice(QPointF(-1.0, 0.5))
    assert abs(x - centre.x()) <= 2 and abs(y - centre.y()) <= 2
    canvas.set_show_density(False)
    assert darkest()[0] == 0  # off again: nothing left in the view


def test_stacked_labels_stay_in_the_view_near_its_top(canvas):
    """Coinciding means at the top edge: their labels go below them rather than out of the view."""
    points = np.random.default_rng(6).uniform(0, 4, size=(200, 2))
    _show(canvas, points, _mixture([[2.0, 4.0]] * 4))
    view = canvas.getPlotItem().getViewBox()
    shown = view.mapRectToScene(view.boundingRect())
    rects = [label.mapRectToScene(label.textItem.mapRectToParent(label.textItem.boundingRect()))
             for label in canvas._labels]
    for i, rect in enumerate(rects):
        assert shown.contains(rect), (i, rect, shown)
        for other in rects[i + 1:]:
            assert not rect.intersects(other)


def test_point_layers_keep_their_data_bounds():
    """The view asks every point layer for its bounds at every frame: they are the points'
    own extremes, kept from when the points were set (checked against numpy)."""
    from emviz.ui.pointdensity import DensityImage
    from emviz.ui.points import PointCloud

    rng = np.random.default_rng(4)
    xy = rng.normal(size=(5000, 2)) * [3.0, 0.5] + [10.0, -2.0]
    for layer in (PointCloud(), DensityImage()):
        assert layer.dataBounds(0) == (None, None)
        layer.set_points(xy)
        assert layer.dataBounds(0) == (xy[:, 0].min(), xy[:, 0].max())
        assert layer.dataBounds(1) == (xy[:, 1].min(), xy[:, 1].max())
        layer.set_points(xy[:10] * 2)
        assert layer.dataBounds(1) == ((xy[:10, 1] * 2).min(), (xy[:10, 1] * 2).max())
        layer.set_points(np.empty((0, 2)))
        assert layer.dataBounds(0) == (None, None)


_CORNERS = np.array([[-4.0, -3.0], [4.0, -3.0], [-4.0, 3.0], [4.0, 3.0]])
_ONE = Mixture(np.array([1.0]), np.zeros((1, 2)), np.array([[[1.0, 0.3], [0.3, 0.5]]]))


def _curve_pixels(canvas, mean, cov, level):
    """The device pixels of the level-sigma ellipse, by the view's own mapping: (m, 2) ints (x, y)."""
    from PySide6.QtCore import QPointF

    from emviz.ui.canvas import ellipse_points

    view = canvas.getPlotItem().getViewBox()
    xy = ellipse_points(mean, cov, level).T
    return np.array([(p.x(), p.y()) for p in (view.mapViewToDevice(QPointF(x, y)) for x, y in xy)]).astype(int)


@pytest.mark.parametrize("zoom", [1.0, 0.25, 4.0])
def test_the_ellipses_paint_only_inside_their_bounding_rect(canvas, zoom):
    """Qt repaints and culls an item by its boundingRect: every pixel the ellipses and their halos
    change lies inside it, and it is no wider than the widest halo's reach, also after a zoom
    (its margin is in pixels, so in data units it follows the view's scale)."""
    canvas.setBackground("k")  # the white halos show on black: all of the layer's pixels count
    canvas.show_third_ellipse = True
    _show(canvas, _CORNERS, _ONE)
    if zoom != 1.0:
        box = canvas.getPlotItem().getViewBox()
        shown = box.viewRect()
        cx, cy = shown.center().x(), shown.center().y()
        half_w, half_h = shown.width() * zoom / 2, shown.height() * zoom / 2
        box.setRange(xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0)
        canvas.grab()
    layer = canvas.ellipses
    with_layer = _image(canvas)
    layer.setVisible(False)
    without = _image(canvas)
    layer.setVisible(True)
    ys, xs = np.nonzero(np.abs(with_layer - without).max(axis=2) > 0)
    assert len(xs) > 100
    rect = canvas.mapFromScene(layer.mapRectToScene(layer.boundingRect())).boundingRect()
    view = canvas.mapFromScene(canvas.getPlotItem().getViewBox().sceneBoundingRect()).boundingRect()
    assert rect.left() <= xs.min() and xs.max() <= rect.right() + 1, (rect, xs.min(), xs.max())
    assert rect.top() <= ys.min() and ys.max() <= rect.bottom() + 1, (rect, ys.min(), ys.max())
    reach = layer.halo_pen(0, 2).widthF()  # the widest halo's width: more than its reach past the curve
    for drawn, edge, cut in ((xs.min(), rect.left(), view.left()), (ys.min(), rect.top(), view.top())):
        if drawn > cut + reach:  # the curve's extreme is inside the view, not cut off by it
            assert drawn - edge <= reach + 2, (drawn, edge)
    for drawn, edge, cut in ((xs.max(), rect.right(), view.right()), (ys.max(), rect.bottom(), view.bottom())):
        if drawn < cut - reach:
            assert edge - drawn <= reach + 2, (drawn, edge)


def test_the_third_ellipse_is_drawn_only_when_asked(canvas):
    """The 3-sigma curve, located by the view's mapping, shows the component's colour only with
    'show third ellipse'; the 2-sigma curve always does."""
    colour = np.array(palette.qcolor(0).getRgb()[:3], dtype=float)

    def share_on(level):
        rgb = _image(canvas)
        px = _curve_pixels(canvas, _ONE.means[0], _ONE.covariances[0], level)
        return float(np.mean(np.abs(rgb[px[:, 1], px[:, 0]] - colour).sum(axis=1) < 60))

    _show(canvas, _CORNERS, _ONE)
    assert share_on(2) > 0.3 and share_on(3) == 0.0
    canvas.show_third_ellipse = True
    _show(canvas, _CORNERS, _ONE)
    assert share_on(2) > 0.3 and share_on(3) > 0.2
    assert canvas.ellipses.curve(0, 2).shape == (2, 73)


def test_the_dots_show_every_new_colouring_and_compose_once_per_colouring(canvas, monkeypatch):
    """The dot layer keeps its composed image while neither the colours nor the view change: the
    same colours again (a new array, as a run hands over) compose nothing; new colours for all
    points or for some rows, and a pan, show at once, measured at each dot's pixel."""
    from PySide6.QtCore import QPointF

    from emviz.ui.points import PointCloud

    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), axis=-1).reshape(-1, 2)
    canvas.set_data(grid, ("x", "y"))
    layer = canvas.points
    composed = []
    original = PointCloud._compose
    monkeypatch.setattr(PointCloud, "_compose", lambda self, *a: composed.append(1) or original(self, *a))
    view = canvas.getPlotItem().getViewBox()

    def dot_colours():
        rgb = _image(canvas).astype(int)
        at = [view.mapViewToDevice(QPointF(x, y)) for x, y in grid]
        return np.array([rgb[int(p.y()), int(p.x())] for p in at])

    def argb(rgb):
        rgb = np.asarray(rgb, dtype=np.uint32)
        return np.uint32(0xFF000000) | (rgb[:, 0] << np.uint32(16)) | (rgb[:, 1] << np.uint32(8)) | rgb[:, 2]

    red, blue = np.tile([[200, 30, 30]], (len(grid), 1)), np.tile([[30, 30, 200]], (len(grid), 1))
    layer.set_colors(argb(red))
    np.testing.assert_array_equal(dot_colours(), red)
    before = len(composed)
    layer.set_colors(argb(red).copy())  # the same colours, another array
    np.testing.assert_array_equal(dot_colours(), red)
    assert len(composed) == before
    rows = np.arange(0, len(grid), 3)
    layer.set_colors(argb(blue[rows]), rows=rows)
    expected = red.copy()
    expected[rows] = blue[rows]
    np.testing.assert_array_equal(dot_colours(), expected)
    layer.set_colors(argb(blue))
    np.testing.assert_array_equal(dot_colours(), blue)
    shown = view.viewRect()
    view.setRange(xRange=(shown.left() + 0.3, shown.right() + 0.3), yRange=(shown.top(), shown.bottom()), padding=0)
    np.testing.assert_array_equal(dot_colours(), blue)  # laid out and composed again where the view moved
    assert len(composed) > before
