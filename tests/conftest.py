"""Test set-up: the real Qt, offscreen, so the suite runs with no display."""

import os

# Before anything imports Qt: no display is needed, and no window pops up on a developer's desktop.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

# gmm's passes switch from numpy to the compiled kernel (emviz.kernel) when its background
# build is done; a test must not see that happen halfway (some compare runs bitwise). Tests
# run on the numpy passes, the reference; tests/test_kernel.py selects the kernel explicitly.
from emviz import gmm  # noqa: E402

gmm._passes = gmm.NUMPY_PASSES
