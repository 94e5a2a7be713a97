"""Headless rendering: the window's own drawing of a fit, saved as a PNG or an animated GIF."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from emviz.data import CsvTable, DataError, Dataset
from emviz.session import Session, Settings
from emviz.ui.window import MainWindow, make_app

FORMATS = (".png", ".gif")


def frame_indices(n_steps: int, max_frames: int) -> list[int]:
    """Evenly spread snapshot indices, always the first and the last, at most ``max_frames``."""
    if n_steps <= max_frames:
        return list(range(n_steps))
    return sorted(set(np.linspace(0, n_steps - 1, max_frames).round().astype(int).tolist()))


def image_rgb(image: QImage) -> np.ndarray:
    """A QImage as an (height, width, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def _to_pil(image: QImage):
    from PIL import Image

    return Image.fromarray(image_rgb(image))



@contextmanager
def drawn_window(
    dataset: Dataset,
    settings: Settings,
    *,
    table: CsvTable | None = None,
    size=(1500, 950),
    hard_labels: bool = False,
    three_sigma: bool = False,
    show_truth: bool = False,
    density: bool = False,
    iteration: int | None = None,
):
    """The window, off screen, with the fit run to its end (or to ``iteration``) and drawn.

    What ``render`` saves; tests measure the same window against its own mapping.
    """
    make_app()
    window = MainWindow(dataset, settings, table=table)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(*size)
    window.show()
    window.run_controls.hard_labels.setChecked(hard_labels)
    window.run_controls.third_ellipse.setChecked(three_sigma)
    window.data_controls.show_truth.setChecked(show_truth)
    window.canvas.set_show_density(density)
    window.canvas.density_points.synchronous = True  # a grab without an event loop: bin while painting
    try:
        for step in window.session.steps:
            window.session.append(step)
            if iteration is not None and step.iteration >= iteration:
                break
        last = window.session.last.iteration
        if iteration is not None and iteration > last:
            raise DataError(f"--iteration {iteration}: the run ended at iteration {last}")
        window.draw_step(-1)
        yield window
    finally:
        window.close()


def render(
    dataset: Dataset,
    settings: Settings,
    output,
    *,
    table: CsvTable | None = None,
    size=(1500, 950),
    max_frames: int = 150,
    frame_ms: int = 100,
    gif_width: int = 880,
    hard_labels: bool = False,
    three_sigma: bool = False,
    show_truth: bool = False,
    density: bool = False,
    iteration: int | None = None,
    on_drawn: Callable[[Session], None] | None = None,
) -> int:
    """Fit and draw as the window does; return the number of frames written.

    A .png is the whole window at the end of the run (or at ``iteration``, as the
    window's History slider shows it); a .gif is the plots (data, ellipses,
    log-likelihood) at every iteration, at most ``max_frames`` of them. The flags
    are the window's display toggles. ``on_drawn(session)`` is called with the window's
    session once the fit is drawn, before the file is written (``emviz render`` says on
    stderr what the status line says).
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{output}: the output must end in .png or .gif")
    if not output.parent.exists():
        raise DataError(f"{output}: the folder {output.parent} does not exist")
    if max_frames < 2:
        raise DataError(f"--max-frames must be at least 2, got {max_frames}")
    if frame_ms < 20:
        raise DataError(f"--frame-ms must be at least 20 (GIF viewers slow faster frames down), got {frame_ms}")
    if iteration is not None and (suffix != ".png" or iteration < 0):
        raise DataError("--iteration takes a number >= 0 and draws one .png")
    display = dict(hard_labels=hard_labels, three_sigma=three_sigma, show_truth=show_truth, density=density)
    with drawn_window(dataset, settings, table=table, size=size, iteration=iteration, **display) as window:
        if on_drawn is not None:
            on_drawn(window.session)
        if suffix == ".png":
            if not window.grab().save(str(output)):
                raise DataError(f"{output}: cannot be written")
            return 1
        frames = []
        for index in frame_indices(len(window.session.history), max_frames):
            window.draw_step(index, replay=True)
            image = window.plots_panel.grab().toImage()
            image = image.scaledToWidth(gif_width, Qt.TransformationMode.SmoothTransformation)
            frames.append(_to_pil(image))
    # One adaptive palette for all frames, from the first, middle and last (so the blended
    # colours of uncertain points survive): cleaner than Pillow's web palette, and pixels
    # that do not change keep their index, which lets the GIF store only what changed.
    from PIL import Image

    samples = [frames[0], frames[len(frames) // 2], frames[-1]]
    montage = Image.new("RGB", (samples[0].width * 3, samples[0].height), "white")
    for i, sample in enumerate(samples):
        montage.paste(sample, (i * sample.width, 0))
    palette_image = montage.quantize(colors=128, method=0, dither=0)
    frames = [frame.quantize(palette=palette_image, dither=0) for frame in frames]
    durations = [frame_ms] * len(frames)
    durations[-1] = max(frame_ms, 2500)  # linger on the converged state before looping
    try:
        frames[0].save(output, save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False)
    except OSError as exc:
        raise DataError(f"{output}: cannot be written ({exc})") from None
    return len(frames)
