"""What the window's start imports, and in which order (benchmarks/bench_startup.py times it).

Checked through sys.modules in a fresh interpreter (its keys are in import order), never
by timing.
"""

import os
import subprocess
import sys
import textwrap


def imported(code: str) -> list[str]:
    """The modules a fresh interpreter has imported after running ``code``, in import order."""
    script = textwrap.dedent(code) + "\nimport sys\nprint(' '.join(sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_demo_start_imports_no_scipy_until_its_first_paint():
    """Importing any of scipy costs about 0.3-0.5 s of CPU (its array-API layer walks all of
    numpy), and the start on the demo data (2-d, 600 points) needs none of it: the precision
    factors of 2-d mixtures are worked out in numpy and the default reg_covar's nearest
    neighbours by comparing all pairs. The real start, to its first paint, then quits."""
    modules = imported(
        """
        import os
        os.environ["EMVIZ_STARTUP_PROBE"] = "paint"
        from emviz.cli import main
        assert main([]) == 0
        """
    )
    assert "PySide6.QtWidgets" in modules and "emviz.ui.window" in modules  # the window did start
    assert [name for name in modules if name.split(".")[0] == "scipy"] == []


def test_the_window_start_imports_neither_pandas_nor_numba():
    """pandas only for a CSV file (read in emviz.data.csvfile when one is opened), numba only in
    the kernel's build (a background thread, for data worth compiling for)."""
    modules = imported("import emviz.cli, emviz.ui.window")
    assert "pandas" not in modules
    assert "numba" not in modules


def test_the_small_plots_never_build_a_context_menu(qtbot):
    """The bound view's and the inspector's plots have no right-click menu; pyqtgraph built one
    anyway (about a quarter of making a plot) until they were made with enableMenu=False."""
    from emviz.ui.bound import BoundView
    from emviz.ui.inspector import PointInspector

    for widget, plot in ((bound := BoundView(), bound.plot), (inspector := PointInspector(), inspector.bars)):
        qtbot.addWidget(widget)
        assert plot.getViewBox().menu is None
        assert not plot.getPlotItem().menuEnabled() and not plot.getViewBox().menuEnabled()
