"""Starting the window safely: a display Qt can use, and Ctrl+C in the terminal closing it.

Qt aborts the whole process (exit 134, six lines of its own text) when it cannot
open its platform; :func:`check_display` finds that out first, in a throw-away
process, and says in one line what to do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

# platforms that need no display: nothing to check
_HEADLESS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
_RENDER_HINT = "'emviz render FILE|PRESET -o out.png' draws without one"
_PROBE = "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"
INTERRUPT_POLL_MS = 200  # how often Python gets to see a Ctrl+C while Qt's loop runs


def _platforms() -> list[str]:
    """The Qt platform plugins installed with PySide6, e.g. ['eglfs', 'offscreen', 'xcb']."""
    import PySide6

    folder = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms"
    if not folder.is_dir():
        return []
    names = []
    for plugin in folder.iterdir():
        stem = plugin.name.split(".")[0]
        for prefix in ("libq", "q"):
            if stem.startswith(prefix):
                names.append(stem[len(prefix):])
                break
    return sorted(set(names))


def check_display(environ=None) -> str:
    """"" when Qt can open a window here, else one sentence saying why not and what to do."""
    environ = os.environ if environ is None else environ
    said = _check_without_qt(environ)
    return _probe(environ) if said is None else said


def _check_without_qt(environ):
    """What the environment alone says (a sentence, or "" for fine), or None when only the probe can tell."""
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        names = [part.split(":")[0].strip() for part in requested.split(";") if part.strip()]
        installed = _platforms()
        if installed and not any(name in installed for name in names):
            return (
                f"QT_QPA_PLATFORM={requested!r} names no Qt platform installed here "
                f"(there are: {', '.join(installed)}); unset it to use the display, or {_RENDER_HINT}"
            )
        if all(name in _HEADLESS for name in names):
            return ""
    elif sys.platform.startswith("linux") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return f"no display to open the window on (DISPLAY is not set); {_RENDER_HINT}"
    elif not sys.platform.startswith("linux"):
        return ""  # Windows and macOS always have their native platform
    return None


def check_display_soon(environ=None):
    """:func:`check_display`, its probe started now in a thread; returns a function that waits for the sentence.

    The probe is a second Python process that imports Qt and opens the platform (about
    a second on a busy 2-core machine): started first, it runs while this process loads
    the data and imports the window's modules instead of before them. Only the child
    process is waited for in the thread; what needs an import (the list of installed
    platforms imports PySide6) is done here, in the caller's thread, since importing
    shiboken from two threads at once is not safe. An error in the probe is raised
    again by the returned function.
    """
    environ = dict(os.environ if environ is None else environ)
    said = _check_without_qt(environ)
    if said is not None:
        return lambda: said
    outcome = {}

    def probe():
        try:
            outcome["said"] = _probe(environ)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=probe, name="emviz-display-check", daemon=True)
    thread.start()

    def result() -> str:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["said"]

    return result


def _probe(environ) -> str:
    """Start Qt's platform in a child process: if it aborts there, this process is spared."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], env=dict(environ), capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""  # cannot tell; let Qt try
    if probe.returncode == 0:
        return ""
    said = probe.stderr
    where = f"DISPLAY={environ.get('DISPLAY', '')!r}" if environ.get("DISPLAY") else \
        f"WAYLAND_DISPLAY={environ.get('WAYLAND_DISPLAY', '')!r}"
    if "could not connect to display" in said or "Failed to create wl_display" in said:
        return f"no display server answers at {where}; start one or set DISPLAY to a running one, or {_RENDER_HINT}"
    if "Could not load the Qt platform plugin" in said:
        return (
            f"Qt cannot load its platform plugin for {where}: a system library is missing "
            "(QT_DEBUG_PLUGINS=1 emviz names it; on Debian/Ubuntu the libxcb-* packages, e.g. "
            f"libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1); or {_RENDER_HINT}"
        )
    return f"Qt cannot open a window at {where} (it exits with status {probe.returncode}); {_RENDER_HINT}"


@contextlib.contextmanager
def closing_on_interrupt(app):
    """Ctrl+C in the terminal closes every window cleanly, idle or running.

    Python runs a signal handler only when the interpreter gets control, which it
    does not while Qt's event loop waits; a periodic empty timer gives it control.
    Yields a function telling whether Ctrl+C was pressed.
    """
    from PySide6.QtCore import QTimer

    pressed = []

    def close_all():
        app.closeAllWindows()  # each window stops its worker in closeEvent
        app.quit()

    def on_interrupt(signum, frame):
        pressed.append(signum)
        # from inside the event loop: a quit() before exec() starts would be lost
        QTimer.singleShot(0, close_all)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    timer = QTimer()
    timer.timeout.connect(lambda: None)
    timer.start(INTERRUPT_POLL_MS)
    try:
        yield lambda: bool(pressed)
    finally:
        timer.stop()
        signal.signal(signal.SIGINT, previous)
