"""Test set-up: the real Qt, offscreen, so the suite runs with no display."""

import os

# Before anything imports Qt: no display is needed, and no window pops up on a developer's desktop.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
