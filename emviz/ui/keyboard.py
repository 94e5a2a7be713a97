"""Single keys that drive a window from wherever the focus is, except while text is being typed.

A QShortcut loses its key to whichever widget has the focus and wants it: a spin
box takes Space and the arrows, a button Space, a combo box the arrows. So the
window's keys are read before any of its widgets sees them (an event filter on
every widget), and given to a widget only while the user is typing into a text
field: from the first character typed until Enter, Escape or leaving the field.
Enter and Escape also leave the field, so the next key drives the run again.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)
_EDITING_KEYS = {Qt.Key.Key_Backspace, Qt.Key.Key_Delete}


def text_field(widget: QWidget | None) -> QWidget | None:
    """The text field ``widget`` belongs to (a spin box's or an editable combo box's line edit
    counts as the box), or None."""
    for _ in range(3):
        if widget is None:
            return None
        if isinstance(widget, (QAbstractSpinBox, QTextEdit, QPlainTextEdit)):
            return widget
        if isinstance(widget, QComboBox):
            return widget if widget.isEditable() else None
        if isinstance(widget, QLineEdit) and not isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox)):
            return widget
        widget = widget.parentWidget()
    return None


class WindowKeys(QObject):
    """Reads the keys of one window; ``actions`` maps a key to what it does.

    ``escape()`` is asked what Escape means outside a text field (leave presentation
    mode, say); it returns True when it used the key. ``home`` gets the focus when
    the user leaves a text field.
    """

    def __init__(self, window: QWidget, actions: dict, *, escape: Callable[[], bool], home: QWidget):
        super().__init__(window)
        self.actions = dict(actions)
        self._escape = escape
        self._home = home
        self.typing_in: QWidget | None = None  # the text field being typed in, if any
        QApplication.instance().focusChanged.connect(self._on_focus_changed)

    def watch(self, widget: QWidget):
        """Read the keys of ``widget`` and of every widget in it."""
        for each in [widget, *widget.findChildren(QWidget)]:
            each.installEventFilter(self)

    def _on_focus_changed(self, old, new):
        if self.typing_in is not None and text_field(new) is not self.typing_in:
            self.typing_in = None

    def leave_field(self):
        """Focus back to the window, which commits what was typed (as leaving a field does)."""
        self.typing_in = None
        self._home.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, obj, event):
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()
        field = text_field(QApplication.focusWidget())
        if key == Qt.Key.Key_Escape:
            if field is not None:
                self.leave_field()
                return True
            return self._escape()
        if field is not None:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                # the field takes Enter first (it commits), then the focus leaves it
                QTimer.singleShot(0, self.leave_field)
                return False
            if self.typing_in is field:
                return False
            if key not in self.actions or event.modifiers() & _MODIFIERS:
                if event.text().isprintable() and event.text() or key in _EDITING_KEYS:
                    self.typing_in = field
                return False
        if event.modifiers() & _MODIFIERS:
            return False
        action = self.actions.get(key)
        if action is None:
            return False
        action()
        return True
