"""The real window, driven as a user drives it: buttons clicked, keys pressed, dialogs answered."""

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from emviz.data import generate
from emviz.gmm import EMStep
from emviz.session import Session, Settings
from emviz.ui import palette
from emviz.ui.controls import SPEEDS
from emviz.ui.render import image_rgb
from emviz.worker import EMWorker

MAX_SPEED = SPEEDS.index(0)


def ellipse_xy(window, component=0, level=0):
    x, y = window.canvas.ellipses.curve(component, level)
    return np.column_stack([x, y])


def wait_finished(qtbot, window, timeout=30_000):
    qtbot.waitUntil(lambda: not window.runner.running, timeout=timeout)


def test_opens_on_the_article_with_its_initial_mixture_drawn(window):
    assert window.session.dataset.name == "article"
    assert window.session.settings == Settings(k=3, init="random", tol=1e-7, seed=1)
    assert [s.iteration for s in window.session.history] == [0]
    assert window.params.rowCount() == 3
    assert len(ellipse_xy(window)) > 50
    assert "Iteration 0" in window.header.text()
    assert window.status_state.text() == "ready"
    assert window.frames_drawn >= 1


def test_step_does_exactly_one_iteration_and_moves_the_ellipses(qtbot, window):
    before = ellipse_xy(window).copy()
    table_before = window.params.text(0, 2)
    window.run_controls.step.click()
    qtbot.waitUntil(lambda: window.session.last.iteration == 1)
    wait_finished(qtbot, window)
    qtbot.wait(50)
    assert [s.iteration for s in window.session.history] == [0, 1]
    assert not np.allclose(ellipse_xy(window), before)
    assert window.params.text(0, 2) != table_before
    assert window.status_iteration.text() == "iteration 1"
    assert window.status_state.text() == "ready"  # a Step is not a paused Run


def test_run_reaches_convergence_and_says_so(qtbot, window):
    window.run_controls.speed.setValue(MAX_SPEED)
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        window.run_controls.run.click()
    assert finished.args == ["done"]
    last = window.session.last
    assert last.converged and last.iteration == 42  # the article's run: 42 iterations from seed 1
    lls = [s.log_likelihood for s in window.session.history]
    assert [s.iteration for s in window.session.history] == list(range(43))
    assert np.all(np.diff(lls) > -1e-9)
    assert window.status_state.text() == "converged after 42 iterations (|Δ| < 1e-07)"
    assert "converged" in window.header.text()  # the status bar says after how many
    assert window.run_controls.run.text().startswith("Run")
    x, y = window.likelihood.curve.getData()
    np.testing.assert_array_equal(x, np.arange(43))
    np.testing.assert_allclose(y, lls)
    assert window.likelihood.current_line.value() == 42


def test_after_convergence_the_run_buttons_look_disabled_and_keys_say_why(qtbot, window):
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    wait_finished(qtbot, window)
    history = list(window.session.history)
    r = window.run_controls
    assert not r.run.isEnabled() and not r.step.isEnabled() and r.reset.isEnabled()
    assert "Lower the tolerance to carry on" in r.run.toolTip()
    qtbot.keyClick(window.plots_panel, Qt.Key.Key_Space)
    assert not window.runner.running and window.session.history == history
    message = ("EM converged after 42 iterations (|Δ| < 1e-07). Lower the tolerance to carry on, "
               "or Reset to run it again")
    # seen where the user looks: above the plots, while the status bar keeps the state
    assert window.notice.isVisible() and window.notice.text() == message
    assert window.plots_panel.rect().contains(window.notice.geometry())  # over the top of the plots
    assert window.status_state.isVisible() and window.status_state.text().startswith("converged after 42")
    qtbot.keyClick(window.plots_panel, Qt.Key.Key_Right)
    assert window.session.history == history and window.notice.text() == message
    r.reset.click()
    assert r.run.isEnabled() and r.step.isEnabled() and not r.reset.isEnabled()
    assert "already at iteration 0" in r.reset.toolTip()
    qtbot.keyClick(window.plots_panel, Qt.Key.Key_R)
    assert window.notice.text() == "Already at iteration 0, the start: nothing to reset"


def test_history_slider_looks_back_at_any_iteration(qtbot, window):
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    wait_finished(qtbot, window)
    slider = window.run_controls.history
    assert (slider.maximum(), slider.value()) == (42, 42)
    slider.setValue(3)
    third = window.session.history[3]
    assert "Iteration 3" in window.header.text() and "looking back" in window.header.text()
    assert window.status_state.text() == "looking back; newest is iteration 42"
    assert window.params.text(0, 1) == f"{third.mixture.weights[0]:.3f}"
    assert window.likelihood.current_line.value() == 3
    assert len(window.likelihood.curve.getData()[0]) == 43  # the whole curve stays
    label = window.canvas._labels[0].pos()
    np.testing.assert_allclose([label.x(), label.y()], third.mixture.means[0])
    window.run_controls.hard_labels.setChecked(True)  # redraws the iteration on show
    assert "Iteration 3" in window.header.text()
    # a click on the curve looks at the iteration under it
    plot = window.likelihood
    vb = plot.getPlotItem().getViewBox()
    point = plot.mapFromScene(vb.mapViewToScene(pg.Point(20.2, float(np.mean(vb.viewRange()[1])))))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert slider.value() == 20 and "Iteration 20" in window.header.text()
    window.likelihood.iteration_clicked.emit(400)  # past the end: the last iteration
    assert slider.value() == 42
    window.run_controls.reset.click()
    assert (slider.maximum(), slider.value()) == (0, 0)
    assert window.run_controls.history_label.text() == "0 / 0"


def test_pause_then_run_resumes_where_it_stopped(qtbot, window):
    window.run_controls.speed.setValue(SPEEDS.index(30))
    window.run_controls.run.click()
    assert window.run_controls.run.text().startswith("Pause")
    qtbot.waitUntil(lambda: window.session.last.iteration >= 3)
    with qtbot.waitSignal(window.run_finished, timeout=5000) as finished:
        window.run_controls.run.click()  # pause
    assert finished.args == ["paused"]
    paused_at = window.session.last.iteration
    qtbot.wait(300)
    assert window.session.last.iteration == paused_at and window.status_state.text() == "paused"
    window.run_controls.run.click()  # resume
    qtbot.waitUntil(lambda: window.session.last.iteration >= paused_at + 2)
    iterations = [s.iteration for s in window.session.history]
    assert iterations == list(range(len(iterations)))  # nothing skipped, nothing repeated


def test_reset_returns_to_iteration_0_with_the_same_start(qtbot, window):
    start = window.session.start
    for _ in range(3):
        window.run_controls.step.click()
        wait_finished(qtbot, window)
    assert window.session.last.iteration == 3
    window.run_controls.reset.click()
    assert [s.iteration for s in window.session.history] == [0]
    np.testing.assert_array_equal(window.session.last.mixture.means, start.means)
    assert window.status_iteration.text() == "iteration 0"
    window.run_controls.step.click()  # and it runs again from there
    qtbot.waitUntil(lambda: window.session.last.iteration == 1)


def test_changing_k_while_running_drops_the_snapshots_queued_from_the_old_run(qtbot, make_window):
    window = make_window(generate(2000, 3, seed=2), Settings(k=3, tol=0.0, max_iter=100_000))
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    emitted = []
    window.runner._worker.stepped.connect(lambda payload: emitted.append(payload[1].iteration),
                                          Qt.ConnectionType.DirectConnection)
    # the GUI thread is kept busy (no events delivered) while the worker emits: snapshots queue up
    for _ in range(3000):
        if len(emitted) >= 20:
            break
        time.sleep(0.01)
    newest = window.session.last.iteration
    assert len(emitted) >= 20 and emitted[-1] > newest + 10  # queued, not yet delivered
    window.model_controls.k.setValue(4)  # stops the run and starts over with k = 4
    assert not window.runner.running
    assert window.session.settings.k == 4
    assert [s.iteration for s in window.session.history] == [0]
    assert window.session.last.mixture.k == 4 and window.params.rowCount() == 4
    qtbot.wait(200)  # the queued snapshots are delivered now, and must be dropped
    assert [s.iteration for s in window.session.history] == [0]
    assert window.session.last.mixture.k == 4
    window.model_controls.max_iter.setValue(1000)
    window.model_controls.tol.setCurrentText("1e-6")
    window.model_controls.tol.lineEdit().editingFinished.emit()
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.converged, timeout=30_000)
    assert window.session.last.mixture.k == 4


def test_every_model_setting_resets(qtbot, window):
    m = window.model_controls
    m.covariance.setCurrentIndex(m.covariance.findData("spherical"))
    assert window.session.settings.covariance == "spherical"
    c = window.session.last.mixture.covariances
    assert np.all(c[:, 0, 1] == 0) and np.all(c[:, 0, 0] == c[:, 1, 1])
    m.init.setCurrentIndex(m.init.findData("kmeans"))
    m.seed.setValue(5)
    m.max_iter.setValue(7)
    m.tol.setCurrentText("1e-4")
    m.tol.lineEdit().editingFinished.emit()
    assert window.session.settings == Settings(k=3, covariance="spherical", init="kmeans", seed=5, tol=1e-4, max_iter=7)
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    wait_finished(qtbot, window)
    assert window.session.last.iteration <= 7


def test_bad_settings_are_refused_and_the_state_survives(qtbot, window, errors):
    window.run_controls.step.click()
    wait_finished(qtbot, window)
    history = list(window.session.history)
    window.model_controls.k.setValue(20)
    data = generate(15, 2, seed=0)  # fewer points than k = 20
    assert not window._apply(data)
    assert "15 points are fewer than k=20 components" in errors[-1]
    assert window.session.dataset.name == "article"
    window.model_controls.tol.setCurrentText("abc")
    window.model_controls.tol.lineEdit().editingFinished.emit()
    assert "tolerance 'abc' is not a number" in errors[-1]
    # refused: the box shows the tolerance in force again, and that is still the article's
    assert window.model_controls.tol.currentText() == "1e-07" and window.session.settings.tol == 1e-7
    assert window.session.settings.k == 20 and len(window.session.history) == 1
    assert history[0].mixture.k == 3


def test_open_a_good_csv(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "measurements.csv"
    rng = np.random.default_rng(0)
    rows = ["site;a;b;c"] + [f"s{i};{x:.5f};{y:.5f};{z:.5f}".replace(".", ",") for i, (x, y, z) in
                             enumerate(np.concatenate([rng.normal(size=(80, 3)), rng.normal(size=(80, 3)) + 5]))]
    rows[4] = "s3;;1,0;2,0"
    path.write_text("\n".join(rows) + "\n", encoding="latin-1")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.data_controls.open_csv.click()
    dataset = window.session.dataset
    assert dataset.name == "measurements.csv" and dataset.columns == ("a", "b") and dataset.n == 159
    # the article's own start, tolerance and seed were for its data: back to the defaults
    assert window.session.settings == Settings(k=3)
    assert window.model_controls.init.currentData() == "kmeans++"
    assert window.data_controls.preset.currentIndex() == -1
    assert window.data_controls.preset.placeholderText() == "(your own data)"
    assert "dropped 1 row" in window.data_controls.info.text()
    assert "3 numeric columns: showing a and b" in window.notice.text() and window.notice.isVisible()
    assert "line 5, column 'a': empty" in window.notice.text()
    assert window.data_controls.x_column.isVisibleTo(window)
    assert not window.data_controls.equal_axes.isChecked()  # columns of a file may be in different units
    assert window.canvas.getPlotItem().getAxis("bottom").labelText == "a"
    window.data_controls.y_column.setCurrentIndex(window.data_controls.y_column.findData("c"))
    assert window.session.dataset.columns == ("a", "c") and window.session.dataset.n == 159
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.converged, timeout=30_000)


def test_open_a_bad_csv_keeps_the_data_and_history(qtbot, window, tmp_path, monkeypatch, errors):
    for _ in range(2):
        window.run_controls.step.click()
        wait_finished(qtbot, window)
    before = (window.session.dataset, list(window.session.history), window.session.settings)
    bad = tmp_path / "broken.csv"
    bad.write_text("x,y\n1,2\n3,4\n5,6,7\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.data_controls.open_csv.click()
    assert errors == [f"{bad}: line 4 has 3 fields but the header has 2 (separator: comma); "
                      "fix that row or quote the text that contains the separator"]
    assert (window.session.dataset, window.session.history, window.session.settings) == before
    assert window.status_iteration.text() == "iteration 2"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))  # cancelled
    window.data_controls.open_csv.click()
    assert len(errors) == 1 and window.session.dataset is before[0]


def test_presets_bring_their_settings_and_generate_draws_new_data(qtbot, window):
    d = window.data_controls
    d.preset.setCurrentIndex(d.preset.findData("cross"))
    d.preset.activated.emit(d.preset.currentIndex())
    assert window.session.dataset.name == "cross" and window.session.settings.k == 2
    assert window.session.settings.init == "kmeans++"
    d.preset.setCurrentIndex(d.preset.findData("old-faithful"))
    d.preset.activated.emit(d.preset.currentIndex())
    assert window.session.dataset.n == 272 and not d.points.isEnabled()
    assert not d.equal_axes.isChecked()
    d.true_k.setValue(4)  # only a parameter of Generate while a preset is shown
    assert window.session.dataset.name == "old-faithful"
    d.generate.click()
    assert window.session.dataset.n == 272 and window.session.dataset.mixture.k == 4 and d.points.isEnabled()
    d.points.setValue(400)  # regenerates: the data are generated
    assert window.session.dataset.n == 400 and window.session.dataset.mixture.k == 4
    assert d.show_truth.isEnabled() and d.equal_axes.isChecked()
    d.show_truth.setChecked(True)
    assert len(window.canvas._truth) == 4
    d.separation.setValue(6.0)  # regenerates: the data are generated
    assert window.session.dataset.name.startswith("generated: k=4, separation 6")


def test_keyboard_drives_the_run(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.session.last.iteration == 1)
    wait_finished(qtbot, window)
    window.run_controls.speed.setValue(SPEEDS.index(10))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.runner.running or window.session.last.iteration > 1)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_finished(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert [s.iteration for s in window.session.history] == [0]
    for widget in (window.run_controls.step, window.run_controls.run, window.model_controls.k,
                   window.data_controls.open_csv, window.data_controls.preset, window.run_controls.speed):
        assert widget.toolTip()


def test_an_exception_in_the_worker_reaches_the_user(qtbot, window, errors, monkeypatch):
    first = window.session.history[0]

    def failing():
        yield EMStep(1, first.mixture, first.log_likelihood, 0.5, False)
        raise ValueError("the covariance of component 2 is not positive definite; decrease k")

    window.run_controls.speed.setValue(MAX_SPEED)
    with monkeypatch.context() as patch:  # the session's run is this failing one
        patch.setattr(Session, "steps", property(lambda session, run=failing(): run))
        with qtbot.waitSignal(window.run_finished, timeout=5000) as finished:
            window.run_controls.run.click()
    assert finished.args == ["failed"]
    assert errors == ["EM stopped at iteration 2: the covariance of component 2 is not positive definite; decrease k"]
    assert window.status_state.text().startswith("failed: the covariance of component 2")
    assert [s.iteration for s in window.session.history] == [0, 1]
    window.run_controls.reset.click()  # the window stays usable
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.converged, timeout=30_000)


def test_closing_while_running_ends_the_thread(qtbot, qtlog, make_window):
    window = make_window(generate(200_000, 3, seed=1), Settings(k=3, tol=0.0, max_iter=100_000))
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.iteration >= 2, timeout=30_000)
    thread = window.runner._thread
    assert window.runner.running and thread.isRunning()
    window.close()
    # close() joins the QThread itself: by the time it returns the thread has ended
    assert thread.isFinished() and not thread.isRunning()
    assert not [r for r in qtlog.records if "QThread" in r.message]
    assert not window.runner.running and window.runner._thread is None


def test_the_canvas_really_draws_points_and_ellipses_in_component_colours(qtbot, window):
    window.resize(1400, 900)
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    wait_finished(qtbot, window)
    for hard in (False, True):
        window.run_controls.hard_labels.setChecked(hard)
        rgb = image_rgb(window.canvas.grab().toImage()).reshape(-1, 3).astype(int)
        for i, color in enumerate(palette.rgb(3).astype(int)):
            close = (np.abs(rgb - color).sum(axis=1) < 30).sum()
            assert close > 2000, f"component {i}: only {close} pixels of its colour"
        white = (rgb.sum(axis=1) > 750).mean()
        assert 0.3 < white < 0.97  # a white background with things drawn on it


def test_the_worker_generator_runs_synchronously():
    """The worker's loop, run in this thread so coverage sees it, with every way it can end."""
    data = generate(100, 2, seed=0)
    settings = Settings(k=2, tol=0.0, max_iter=20)
    start = settings.start(data)

    def run(steps, budget):
        worker = EMWorker(steps, budget, 0.0, token=7)
        got, ends, failures = [], [], []
        worker.stepped.connect(lambda payload: got.append(payload), Qt.ConnectionType.DirectConnection)
        worker.finished.connect(lambda payload: ends.append(payload), Qt.ConnectionType.DirectConnection)
        worker.failed.connect(lambda payload: failures.append(payload), Qt.ConnectionType.DirectConnection)
        worker.work()
        return got, ends, failures

    steps = settings.em(data, start)
    got, ends, _ = run(steps, 3)
    assert [token for token, _ in got] == [7, 7, 7] and [s.iteration for _, s in got] == [0, 1, 2]
    assert ends == [(7, "budget")]
    got, ends, _ = run(steps, 10**6)  # the same generator carries on where it stopped
    assert [s.iteration for _, s in got] == list(range(3, 21)) and ends == [(7, "done")]
    got, ends, _ = run(settings.em(data, start), 10**6)
    assert len(got) == 21 and ends == [(7, "done")]
    converging = Settings(k=2, tol=1e-3)
    got, ends, _ = run(converging.em(data, start), 10**6)
    assert got[-1][1].converged and ends == [(7, "done")]

    def broken():
        yield from settings.em(data, start)
        raise AssertionError("unreachable")

    def failing():
        raise ValueError("boom")
        yield  # pragma: no cover

    _, ends, failures = run(failing(), 5)
    assert failures == [(7, "boom")] and ends == [(7, "failed")]
    worker = EMWorker(broken(), 5, 0.0, token=1)
    worker.request_pause()
    ends = []
    worker.finished.connect(lambda payload: ends.append(payload), Qt.ConnectionType.DirectConnection)
    worker.work()
    assert ends == [(1, "paused")]


def test_point_colours_mix_by_responsibility_or_take_the_most_likely():
    rng = np.random.default_rng(0)
    resp = rng.dirichlet(np.ones(4), size=500).T  # (k, n)
    colours = palette.rgb(4)
    soft = palette.point_colors(resp)
    expected = np.clip(np.rint(resp.T @ colours), 0, 255).astype(np.uint32)
    np.testing.assert_array_equal((soft >> 16) & 0xFF, expected[:, 0])
    np.testing.assert_array_equal((soft >> 8) & 0xFF, expected[:, 1])
    np.testing.assert_array_equal(soft & 0xFF, expected[:, 2])
    assert np.all(soft >> 24 == 0xFF)
    hard = palette.point_colors(resp, hard=True)
    winners = colours[resp.argmax(axis=0)].astype(np.uint32)
    np.testing.assert_array_equal(hard, 0xFF000000 | winners[:, 0] << 16 | winners[:, 1] << 8 | winners[:, 2])


def test_leaving_the_article_keeps_what_the_user_chose(qtbot, window):
    m = window.model_controls
    m.init.setCurrentIndex(m.init.findData("random-points"))
    m.k.setValue(4)
    window.data_controls.generate.click()
    assert window.session.dataset.name.startswith("generated")
    # chosen by the user: kept; suggested by the article and left alone: withdrawn
    assert window.session.settings == Settings(k=4, init="random-points", tol=1e-6, seed=0)


def test_many_points_colour_only_what_shows_and_stay_right_when_the_view_moves(qtbot):
    from emviz.session import Session
    from emviz.ui.canvas import MixtureCanvas

    session = Session(generate(60_000, 3, separation=1.0, seed=4), Settings(k=3, init="random-points"))
    for _ in range(3):
        session.append(next(session.steps))
    canvas = MixtureCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(500, 400)
    canvas.show()
    canvas.set_data(session.dataset.points, session.dataset.columns)
    asked = []

    def responsibilities(step):
        def for_rows(rows):
            asked.append(session.dataset.n if rows is None else len(rows))
            return session.responsibilities(step, rows)
        return for_rows

    expected = palette.point_colors(session.responsibilities(session.last))
    canvas.show_step(session.history[1], responsibilities(session.history[1]))
    canvas.grab()  # the first drawing finds which points show
    shown = canvas.points.visible()
    assert len(shown) < session.dataset.n // 2  # most of 60,000 points hide under others
    canvas.show_step(session.last, responsibilities(session.last))
    assert asked[-1] == len(shown)  # only those were coloured
    canvas.grab()
    np.testing.assert_array_equal(canvas.points.colors()[shown], expected[shown])
    vb = canvas.getPlotItem().getViewBox()
    x, y = session.dataset.points[:, 0], session.dataset.points[:, 1]
    vb.setRange(xRange=(np.percentile(x, 40), np.percentile(x, 60)), yRange=(np.percentile(y, 40), np.percentile(y, 60)),
                padding=0)
    canvas.grab()  # zoomed in: points that were hidden now show, and get their colours
    now_shown = canvas.points.visible()
    assert len(np.setdiff1d(now_shown, shown)) > 100
    np.testing.assert_array_equal(canvas.points.colors()[now_shown], expected[now_shown])


def test_any_zoom_or_pan_draws_without_error(qtbot, capsys):
    """The canvas is a pyqtgraph view: users zoom in, out and away; drawing must survive all of it."""
    from emviz.session import Session
    from emviz.ui.canvas import MixtureCanvas

    session = Session(generate(5_000, 3, seed=9), Settings(k=3))
    canvas = MixtureCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    canvas.set_data(session.dataset.points, session.dataset.columns)
    canvas.show_step(session.last, lambda rows: session.responsibilities(session.last, rows))
    vb = canvas.getPlotItem().getViewBox()
    rng = np.random.default_rng(1)
    center = session.dataset.points.mean(axis=0)
    for width in [1e-9, 1e-4, 0.01, 0.3, 1.0, 5.0, 100.0, 1e6, 1e12]:
        for _ in range(3):
            middle = center + rng.normal(size=2) * rng.choice([0.0, 1.0, 50.0])
            vb.setRange(xRange=(middle[0] - width, middle[0] + width),
                        yRange=(middle[1] - width, middle[1] + width), padding=0)
            canvas.grab()
    assert "Traceback" not in capsys.readouterr().err


def test_raising_max_iterations_carries_on_from_where_it_stopped(qtbot, window):
    window.model_controls.max_iter.setValue(10)
    window.run_controls.speed.setValue(MAX_SPEED)
    window.run_controls.run.click()
    wait_finished(qtbot, window)
    assert window.status_state.text() == "stopped at max iterations (10)"
    first_ten = list(window.session.history)
    window.model_controls.max_iter.setValue(1000)
    assert window.session.history == first_ten  # kept, not started over
    assert window.status_state.text() == "ready"
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.converged, timeout=30_000)
    assert window.session.history[:11] == first_ten
    assert window.session.last.iteration == 42  # as the uninterrupted run of the article


def test_a_failure_says_its_iteration_once(qtbot, window, errors, monkeypatch):
    first = window.session.history[0]

    def failing():
        yield EMStep(1, first.mixture, first.log_likelihood, 0.5, False)
        raise ValueError("EM iteration 2: the covariance of component 1 is not positive definite")

    window.run_controls.speed.setValue(MAX_SPEED)
    with monkeypatch.context() as patch:  # the session's run is this failing one
        patch.setattr(Session, "steps", property(lambda session, run=failing(): run))
        with qtbot.waitSignal(window.run_finished, timeout=5000):
            window.run_controls.run.click()
    assert errors == ["EM stopped at iteration 2: the covariance of component 1 is not positive definite"]


def test_paused_only_after_a_paused_run(qtbot, window):
    window.run_controls.speed.setValue(SPEEDS.index(30))
    window.run_controls.run.click()
    qtbot.waitUntil(lambda: window.session.last.iteration >= 2)
    with qtbot.waitSignal(window.run_finished, timeout=5000):
        window.run_controls.run.click()
    assert window.status_state.text() == "paused" and "paused" in window.header.text()
    window.run_controls.step.click()
    wait_finished(qtbot, window)
    assert window.status_state.text() == "ready"
    window.run_controls.reset.click()
    assert window.status_state.text() == "ready"
