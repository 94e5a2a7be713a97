"""Test set-up: the real Qt, offscreen, so the suite runs with no display."""

import inspect
import os

import pytest

# Before anything imports Qt: no display is needed, and no window pops up on a developer's desktop.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

# gmm's passes switch from numpy to the compiled kernel (emviz.kernel) when its background
# build is done; a test must not see that happen halfway (some compare runs bitwise). Tests
# run on the numpy passes, the reference; tests/test_kernel.py selects the kernel explicitly.
from emviz import gmm  # noqa: E402

gmm._passes = gmm.NUMPY_PASSES


@pytest.fixture
def errors(monkeypatch):
    """Every message box the window shows, instead of a modal dialog."""
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def warning(parent, title, message, *args, **kwargs):
        shown.append(message)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


@pytest.fixture
def make_window(request, qtbot, errors):
    """``make_window(*args, size=None, activate=False, **kwargs)``: a shown MainWindow(*args, **kwargs).

    ``size`` (w, h) resizes it before it is shown; ``activate`` waits until it has the focus
    (for key presses). At teardown, whatever the test did, no worker outlives it and every
    window is closed and deleted, not only closed as ``qtbot.addWidget`` would, so that the
    suite's memory and threads do not pile up. A message box the test did not ask to see
    (through the ``errors`` fixture) fails it.
    """
    from emviz.ui.window import MainWindow

    windows = []

    def make(*args, size=None, activate=False, **kwargs):
        window = MainWindow(*args, **kwargs)
        windows.append(window)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        if activate:
            window.activateWindow()
            qtbot.waitUntil(window.isActiveWindow)
        return window

    yield make
    try:
        for window in windows:
            window.loader.cancel()
            window.starter.close()  # joins a start still being worked out
            window.runner.stop()
            for runner in (window.runner, window.loader._runner, window.starter._runner):
                assert runner._thread is None and not runner._finishing
        if "errors" not in inspect.signature(request.function).parameters:
            assert errors == [], f"the window showed a message the test does not expect: {errors}"
    finally:
        _release(windows)


def _release(windows):
    from PySide6.QtCore import QCoreApplication, QEvent

    for window in windows:
        window.close()
        window.deleteLater()
    windows.clear()
    # deleteLater waits for an event loop; a test has none running at teardown
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def window(make_window):
    return make_window()
