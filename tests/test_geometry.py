"""Pictures measured against the view's own mapping: every mark sits where its data coordinates map.

Known inputs (the 5x5 integer grid; the four corners of a rectangle, whose fitted 1-sigma ellipse
touches every side of it) are drawn in the real window as `emviz render` draws it; the dots, the
means and the ellipses are located in the grabbed image and compared with
``ViewBox.mapViewToDevice`` mapped into the grabbed widget, to a pixel. The same measurements run at
device pixel ratio 2 in a child process with QT_SCALE_FACTOR=2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

GRID = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), axis=-1).reshape(-1, 2)
CORNERS = np.array([[-2.0, -1.0], [2.0, -1.0], [-2.0, 1.0], [2.0, 1.0]])
TOLERANCE = 1.0  # device pixels


# ---------------------------------------------------------------------------------------- measuring


def grab(widget):
    """The widget as drawn, (h, w, 3) ints, and its device pixel ratio."""
    from emviz.ui.render import image_rgb

    pixmap = widget.grab()
    return image_rgb(pixmap.toImage()).astype(int), pixmap.devicePixelRatio()


def to_image(canvas, top, xy, dpr) -> np.ndarray:
    """Data coordinates -> continuous pixel coordinates in ``top``'s grabbed image, (m, 2)."""
    from PySide6.QtCore import QPoint, QPointF

    view = canvas.getPlotItem().getViewBox()
    offset = canvas.viewport().mapTo(top, QPoint(0, 0))
    mapped = [view.mapViewToDevice(QPointF(float(x), float(y))) for x, y in np.atleast_2d(xy)]
    return np.array([((p.x() + offset.x()) * dpr, (p.y() + offset.y()) * dpr) for p in mapped])


def view_rect(canvas, top, dpr):
    """The view's rectangle in ``top``'s grabbed image: (left, top, right, bottom)."""
    from PySide6.QtCore import QPoint

    view = canvas.getPlotItem().getViewBox()
    rect = view.mapRectToDevice(view.boundingRect())
    offset = canvas.viewport().mapTo(top, QPoint(0, 0))
    return ((rect.left() + offset.x()) * dpr, (rect.top() + offset.y()) * dpr,
            (rect.right() + offset.x()) * dpr, (rect.bottom() + offset.y()) * dpr)


def components(rgb, color, tol=40):
    """Connected regions of ``color``: list of (centre x, centre y, width, height, area, labels, index)."""
    mask = np.abs(rgb - np.asarray(color)[None, None, :3]).sum(axis=2) <= tol
    labels, _ = ndimage.label(mask)
    found = []
    for index, box in enumerate(ndimage.find_objects(labels), 1):
        ys, xs = np.nonzero(labels[box] == index)
        found.append(dict(x=xs.mean() + box[1].start + 0.5, y=ys.mean() + box[0].start + 0.5,
                          w=box[1].stop - box[1].start, h=box[0].stop - box[0].start, area=len(xs),
                          box=box, index=index))
    return found, labels


def disks(found, diameter):
    """The filled round regions about ``diameter`` pixels across."""
    return [c for c in found if abs(c["w"] - c["h"]) <= 1 and abs(c["w"] - diameter) <= 2
            and c["area"] >= 0.55 * c["w"] * c["h"]]


def nearest_errors(expected, centres):
    """For each expected position, the distance to the nearest measured centre (inf if none)."""
    if len(centres) == 0:
        return np.full(len(expected), np.inf)
    centres = np.array([(c["x"], c["y"]) for c in centres])
    return np.array([np.min(np.hypot(*(centres - e).T)) for e in expected])


def curve_extremes(labels, index):
    """The centre line of a stroked closed curve at its left, right, top and bottom extremes.

    The outermost pixel row or column of the region, moved inwards by half the stroke's
    thickness there.
    """
    ys, xs = np.nonzero(labels == index)
    out = {}
    for name, coords, others, sign in (("left", xs, ys, 1), ("right", xs, ys, -1),
                                       ("top", ys, xs, 1), ("bottom", ys, xs, -1)):
        edge = coords.min() if sign > 0 else coords.max()
        across = np.sort(others[coords == edge])
        middle = across[len(across) // 2]
        along = np.sort(coords[others == middle])  # the stroke's pixels on the line through the extreme
        run = 1
        while run < len(along) and along[run if sign > 0 else -1 - run] == edge + sign * run:
            run += 1
        outer = edge if sign > 0 else edge + 1
        out[name] = outer + sign * run / 2
    return out


def measure_window(window, points, mixture, *, dot_radius, mean_size=17):
    """Largest pixel errors of the dots, the means and the 1-sigma ellipses of ``window``'s canvas."""
    from emviz.ui.canvas import ellipse_points

    canvas = window.canvas
    rgb, dpr = grab(window)
    left, top, right, bottom = view_rect(canvas, window, dpr)
    argb = int(canvas.points.colors()[0])  # hard labels, k = 1: every dot has this fill
    color = ((argb >> 16) & 255, (argb >> 8) & 255, argb & 255)
    found, labels = components(rgb, color)
    margin = (dot_radius + 2) * dpr
    reach = (mean_size / 2 + 6) * dpr
    means_px = to_image(canvas, window, mixture.means, dpr)
    expected = to_image(canvas, window, points, dpr)
    inside = ((expected[:, 0] > left + margin) & (expected[:, 0] < right - margin)
              & (expected[:, 1] > top + margin) & (expected[:, 1] < bottom - margin))
    # a dot under a mean marker or crossed by an ellipse of its own colour is not a separate disk
    levels = (1, 2, 3) if canvas.show_third_ellipse else (1, 2)
    clear = inside & (np.min(np.hypot(*(expected[:, None, :] - means_px[None]).transpose(2, 0, 1)), axis=1) > reach)
    for mean, cov in zip(mixture.means, mixture.covariances):
        curve = to_image(canvas, window, np.hstack([ellipse_points(mean, cov, level) for level in levels]).T, dpr)
        clear &= np.min(np.hypot(*(expected[:, None, :] - curve[None]).transpose(2, 0, 1)), axis=1) > margin + 3 * dpr
    result = dict(dpr=dpr, dots_checked=int(clear.sum()))
    dots = disks(found, 2 * dot_radius * dpr + 1)
    result["dot_error"] = float(nearest_errors(expected[clear], dots).max()) if clear.any() else 0.0
    # every dot-like mark of the dots' colour is a point's: none drawn where there is none
    result["stray_dots"] = int((nearest_errors([(d["x"], d["y"]) for d in dots], [dict(x=x, y=y) for x, y in expected])
                                > TOLERANCE).sum()) if dots else 0
    result["mean_error"] = float(nearest_errors(means_px, disks(found, mean_size * dpr)).max())
    ellipse = max(found, key=lambda c: c["w"] * c["h"])
    measured = curve_extremes(labels, ellipse["index"])
    mean, cov = mixture.means[0], mixture.covariances[0]
    sx, sy = np.sqrt(np.diag(cov))
    lx, ty = to_image(canvas, window, [mean[0] - sx, mean[1] + sy], dpr)[0]
    rx, by = to_image(canvas, window, [mean[0] + sx, mean[1] - sy], dpr)[0]
    expected_extremes = dict(left=(lx, "x"), right=(rx, "x"), top=(ty, "y"), bottom=(by, "y"))
    centre = means_px[0]
    errors = []
    for name, (value, axis) in expected_extremes.items():
        x, y = (value, centre[1]) if axis == "x" else (centre[0], value)
        if left + 4 * dpr < x < right - 4 * dpr and top + 4 * dpr < y < bottom - 4 * dpr:  # not cut off by the view
            errors.append(abs(measured[name] - value))
    result["ellipse_sides_checked"] = len(errors)
    result["ellipse_error"] = float(max(errors)) if errors else 0.0
    return result


def dataset(points, name="grid"):
    from emviz.data import Dataset

    return Dataset(points=points, columns=("x", "y"), name=name, source=f"{name}.csv", origin="csv")


def measure(case: str, size, view: str = "fit") -> dict:
    """Render ``case`` ("grid" or "rectangle") as `emviz render` does, move the view, and measure."""
    from emviz.session import Settings
    from emviz.ui.render import drawn_window

    points = GRID if case == "grid" else CORNERS
    with drawn_window(dataset(points, case), Settings(k=1), size=size, hard_labels=True) as window:
        mixture = window.session.last.mixture
        box = window.canvas.getPlotItem().getViewBox()
        window.grab()  # lays the view out: its range is settled only when it is first drawn
        shown = box.viewRect()
        moved = {"zoom": (0.65, -0.3, -0.3), "pan": (1.0, 0.7, -0.45), "zoom-out": (2.5, 0.0, 0.0)}.get(view)
        if moved is not None:  # as a user's wheel and drag would: a new range, the autorange off
            scale, dx, dy = moved
            cx, cy = shown.center().x() + dx, shown.center().y() + dy
            half_w, half_h = shown.width() * scale / 2, shown.height() * scale / 2
            box.setRange(xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0)
        result = measure_window(window, points, mixture, dot_radius=window.canvas.points.radius)
        result.update(axes_as_if_uncached(window))
        return result


def axes_as_if_uncached(window) -> dict:
    """The canvas as drawn (its axes and grid from their pixmap cache, emviz.ui.axes) against
    the same view drawn with the axes painted afresh: a stale or mis-scaled cache shows up as
    whole grid lines or tick labels in the wrong place."""
    from PySide6.QtWidgets import QGraphicsItem

    canvas = window.canvas
    cached, dpr = grab(canvas)
    axes = [canvas.getPlotItem().getAxis(name) for name in ("left", "bottom")]
    modes = [axis.cacheMode() for axis in axes]
    for axis in axes:
        axis.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    fresh, _ = grab(canvas)
    for axis, mode in zip(axes, modes):
        axis.setCacheMode(mode)
    differ = np.abs(cached - fresh).max(axis=2) > 60
    return {"axes_cached": all(m == QGraphicsItem.CacheMode.DeviceCoordinateCache for m in modes),
            "axes_pixels_differing": int(differ.sum())}


def check(result, case):
    assert result["dots_checked"] >= (4 if case == "rectangle" else 8), result
    assert result["dot_error"] <= TOLERANCE, result
    assert result["stray_dots"] == 0, result
    assert result["mean_error"] <= TOLERANCE, result
    assert result["ellipse_sides_checked"] >= 2 and result["ellipse_error"] <= TOLERANCE, result
    assert result["axes_cached"] and result["axes_pixels_differing"] <= 20, result


# ---------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (1100, 700)])
@pytest.mark.parametrize("case", ["grid", "rectangle"])
def test_dots_means_and_ellipses_sit_on_their_coordinates(qapp, case, size):
    result = measure(case, size)
    check(result, case)
    assert result["dpr"] == 1.0


@pytest.mark.parametrize("view", ["zoom", "pan", "zoom-out"])
def test_geometry_survives_zoom_and_pan(qapp, view):
    check(measure("grid", (1280, 720), view), "grid")


def test_the_rectangle_ellipse_touches_every_side():
    """k = 1 on the four corners: the fitted 1-sigma ellipse is the rectangle's inscribed ellipse."""
    from emviz.gmm import fit

    result = fit(CORNERS, 1, tol=1e-12)
    np.testing.assert_allclose(result.mixture.means[0], [0, 0], atol=1e-12)
    np.testing.assert_allclose(result.mixture.covariances[0], np.diag([4.0, 1.0]), atol=1e-5)


def test_geometry_at_device_pixel_ratio_2(tmp_path):
    """The same measurements in a process where Qt scales everything by 2 (a HiDPI screen)."""
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "tests"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, __file__, "grid:1280x720:zoom", "rectangle:1100x700:fit"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for (case, result) in results:
        assert result["dpr"] == 2.0
        check(result, case)


if __name__ == "__main__":  # the child process of test_geometry_at_device_pixel_ratio_2
    from emviz.ui.window import make_app

    make_app()
    out = []
    for spec in sys.argv[1:]:
        case, size, view = spec.split(":")
        out.append((case, measure(case, tuple(int(v) for v in size.split("x")), view)))
    print(json.dumps(out))


def test_the_true_mixture_overlay_sits_on_its_coordinates(qtbot):
    """The dashed 2-sigma ellipse of a true mixture with semi-axes 2 and 1 touches the rectangle's
    sides; located in the grab (its grey pixels), its extremes are where the view maps them."""
    from emviz.gmm import Mixture
    from emviz.ui.canvas import MixtureCanvas

    canvas = MixtureCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(900, 560)
    canvas.show()
    truth = Mixture(np.array([1.0]), np.zeros((1, 2)), np.diag([1.0, 0.25])[None])
    canvas.set_data(CORNERS, ("x", "y"), true_mixture=truth)
    canvas.set_show_truth(True)
    canvas.points.set_colors(np.full(len(CORNERS), 0xFF0072B2, dtype=np.uint32))  # rims far from grey
    rgb, dpr = grab(canvas)
    left, top, right, bottom = view_rect(canvas, canvas, dpr)
    grey = np.abs(rgb - 60).sum(axis=2) <= 40
    inside = np.zeros_like(grey)
    inside[int(top) + 8: int(bottom) - 7, int(left) + 8: int(right) - 7] = True  # off the axes and ticks
    ys, xs = np.nonzero(grey & inside)
    assert len(xs) > 200  # the dashed curve is drawn
    half = 2 * dpr / 2  # the pen is 2 px wide
    (lx, ty), = to_image(canvas, canvas, [[-2.0, 1.0]], dpr)
    (rx, by), = to_image(canvas, canvas, [[2.0, -1.0]], dpr)
    assert abs(xs.min() + half - lx) <= TOLERANCE and abs(xs.max() + 1 - half - rx) <= TOLERANCE
    assert abs(ys.min() + half - ty) <= TOLERANCE and abs(ys.max() + 1 - half - by) <= TOLERANCE
    found, _ = components(rgb, (0, 114, 178))
    dots = disks(found, 2 * canvas.points.radius * dpr + 1)
    assert nearest_errors(to_image(canvas, canvas, CORNERS, dpr), dots).max() <= TOLERANCE
