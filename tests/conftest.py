"""Test set-up: the real Qt, offscreen, so the suite runs with no display."""

import os

# Before anything imports Qt: no display is needed, and no window pops up on a developer's desktop.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

# gmm's passes switch from numpy to the compiled kernel (emviz.kernel) when its background
# build is done. Have it done (or loaded from numba's cache) before the first test, so no run
# changes implementation halfway; tests of the numpy passes choose them explicitly.
from emviz import kernel  # noqa: E402

kernel.wait()
