"""The command line: ``emviz [FILE]`` (the window), ``emviz fit``, ``emviz render``.

Bad input ends with exit status 2 and one line ``emviz: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys

import numpy as np

from emviz import __version__, gmm
from emviz.data import GENERATE, MAX_CSV_ENV, PRESETS, DataError, Dataset, is_drawn, load, read_csv_table
from emviz.numbers import format_for_spread, format_matrix
from emviz.session import Settings, describe_state

_PRESET_LIST = ", ".join(PRESETS)
MAX_FRAME_MS = 655_350


class EnvironmentFailure(Exception):
    """The machine, not the input, failed: a full disk (exit status 1), no usable display (2)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, like every other emviz error."""

    def error(self, message):  # noqa: D401 - argparse's hook
        self.exit(2, f"emviz: error: {message} (see '{self.prog} --help')\n")


def _add_max_csv_option(parser):
    parser.add_argument(
        "--max-csv-mb",
        type=float,
        metavar="MB",
        help=f"read CSV files up to this many megabytes (default: ${MAX_CSV_ENV}, else 512)",
    )


def _add_data_options(parser):
    parser.add_argument(
        "source",
        metavar="FILE|PRESET",
        help=f"a CSV file, a built-in data set ({_PRESET_LIST}), or '{GENERATE}' for a random mixture",
    )
    parser.add_argument(
        "--columns",
        metavar="A,B",
        help="columns to fit, by name or 0-based position, comma separated (default: every numeric column)",
    )
    _add_max_csv_option(parser)
    parser.add_argument(
        "--points",
        type=int,
        metavar="N",
        help=f"number of points drawn for a preset or '{GENERATE}' (default: the preset's own; 500)",
    )
    parser.add_argument(
        "--data-seed", type=int, metavar="S", help=f"seed for drawing the points of a preset or '{GENERATE}' (default: 0)"
    )
    parser.add_argument(
        "--true-k", type=int, metavar="K", help=f"components of the '{GENERATE}' mixture (default: 3)"
    )
    parser.add_argument(
        "--separation",
        type=float,
        metavar="S",
        help=f"smallest distance between the '{GENERATE}' means, in standard deviations (default: 3)",
    )


def _add_model_options(parser):
    defaults = Settings()
    parser.add_argument("-k", type=int, default=defaults.k, help=f"number of components (default: {defaults.k})")
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help=f"seed of the initialisation (default: {defaults.seed})"
    )
    parser.add_argument(
        "--tol",
        type=float,
        default=defaults.tol,
        help=f"stop when the mean log-likelihood per point changes by less than this (default: {defaults.tol:g})",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=defaults.max_iter,
        metavar="N",
        help=f"at most this many EM iterations (default: {defaults.max_iter})",
    )
    parser.add_argument(
        "--covariance",
        choices=gmm.COVARIANCE_TYPES,
        default=defaults.covariance,
        help=f"covariance type (default: {defaults.covariance})",
    )
    parser.add_argument(
        "--init",
        choices=gmm.INIT_METHODS,
        default=defaults.init,
        help=f"initialisation; 'random' is the article's scheme (default: {defaults.init})",
    )
    parser.add_argument(
        "--reg-covar",
        type=float,
        default=None,
        metavar="R",
        help=(
            "added to every covariance diagonal, at most 1e300 (default: relative to the data, 1e-6 times "
            "the square of the finest gap between neighbouring points; emviz fit prints the value used)"
        ),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="emviz",
        description=(
            "Watch the EM algorithm fit a Gaussian mixture, live. "
            "With no command, opens the window on FILE (a CSV file or a preset name; "
            "default: the 'article' preset)."
        ),
        epilog=(
            "commands:\n"
            "  emviz fit FILE|PRESET [options]            fit and print the mixture (--json for scripts)\n"
            "  emviz render FILE|PRESET -o OUT.png|.gif   draw the fit as the window does, without a display\n"
            "run 'emviz fit --help' or 'emviz render --help' for their options.\n"
            f"presets: {_PRESET_LIST}"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", nargs="?", default="article", metavar="FILE|PRESET", help="data to open (default: article)")
    parser.add_argument(
        "--columns",
        metavar="A,B",
        help="the two columns of a CSV file to show, by name or 0-based position (default: the first two numeric)",
    )
    _add_max_csv_option(parser)
    parser.add_argument("--version", action="version", version=f"emviz {__version__}")
    return parser


def build_fit_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="emviz fit",
        description="Fit a Gaussian mixture with EM and print the result.",
    )
    _add_data_options(parser)
    _add_model_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser


def build_render_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="emviz render",
        description=(
            "Fit and draw the result exactly as the window does, with no display: a .png of the "
            "window at the end of the run, or a .gif of the plots at every iteration."
        ),
    )
    _add_data_options(parser)
    _add_model_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output file, .png or .gif")
    parser.add_argument(
        "--size", default="1500x950", metavar="WxH", help="window size in pixels (default: 1500x950)"
    )
    parser.add_argument(
        "--max-frames", type=int, default=150, metavar="N",
        help="a .gif shows at most N iterations, spread evenly, always the first and the last (default: 150)",
    )
    parser.add_argument(
        "--frame-ms", type=int, default=100, metavar="MS", help="time per .gif frame in milliseconds (default: 100)"
    )
    parser.add_argument(
        "--iteration", type=int, metavar="N", help="draw iteration N instead of the last (a .png only)"
    )
    parser.add_argument("--hard-labels", action="store_true", help="colour points by their most likely component")
    parser.add_argument("--three-sigma", action="store_true", help="also draw the 3 standard deviation ellipses")
    parser.add_argument(
        "--show-truth", action="store_true", help="draw the 2σ ellipses of the mixture a preset was drawn from"
    )
    parser.add_argument("--density", action="store_true", help="shade the fitted mixture's log-density under the points")
    return parser


def _settings(args) -> Settings:
    return Settings(
        k=args.k,
        covariance=args.covariance,
        init=args.init,
        seed=args.seed,
        tol=args.tol,
        max_iter=args.max_iter,
        reg_covar=args.reg_covar,
    )


def _columns(args):
    if args.columns is None:
        return None
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    if not columns:
        raise DataError(f"--columns {args.columns!r} names no column")
    return columns


def _dataset(args) -> Dataset:
    _apply_max_csv(args)
    # the window's parser has no sampling options: it opens a preset as it comes
    return load(
        args.source,
        _columns(args),
        n=getattr(args, "points", None),
        seed=getattr(args, "data_seed", None),
        true_k=getattr(args, "true_k", None),
        separation=getattr(args, "separation", None),
    )


def _plane(args):
    """The two-column data set a window shows for FILE|PRESET, and the CSV table behind it (or None)."""
    _apply_max_csv(args)
    if is_drawn(args.source):
        return _dataset(args), None
    if not os.path.lexists(args.source):
        load(args.source)  # raises with the same message as 'emviz fit' gives
    table = read_csv_table(args.source)
    return table.plane(_columns(args)), table


def _load_in_window(args):
    """(path, columns) when FILE is a CSV file large enough that the window should read it in the
    background, as its Open CSV... does (progress, Cancel); None to read it before the window opens.

    Reading a 1e6-row file first kept the window from appearing for seconds with nothing to
    show for it. Files below emviz.ui.loading.BACKGROUND_BYTES (about 50 000 rows) read in a
    moment and, read first, a bad one ends the command with its message on stderr (status 2).
    """
    _apply_max_csv(args)
    if is_drawn(args.source):
        return None
    columns = _columns(args)  # a malformed --columns is said before anything opens
    from emviz.ui.loading import in_background  # PySide6, after numpy and scipy (see emviz/ui/window.py)

    return (args.source, columns) if in_background(args.source) else None


def _apply_max_csv(args) -> None:
    """--max-csv-mb lifts the cap for this process: the window's Open CSV... reads with it too."""
    if getattr(args, "max_csv_mb", None) is None:
        return
    if not args.max_csv_mb > 0:
        raise DataError(f"--max-csv-mb must be a positive number of megabytes, got {args.max_csv_mb:g}")
    os.environ[MAX_CSV_ENV] = repr(float(args.max_csv_mb))


def fit_warnings(dataset: Dataset, settings: Settings, step: gmm.EMStep) -> list[str]:
    """What a fit ending at ``step`` should not leave unsaid beyond collapsed components: the
    regularisation setting the answer. ``emviz fit`` and ``emviz render`` print these on stderr."""
    said = settings.regularisation_warning(step, dataset.points)
    return [f"{dataset.source}: {said}"] if said else []


def _warn(warnings) -> None:
    for message in warnings:
        with contextlib.suppress(OSError):
            sys.stderr.write(f"emviz: warning: {' '.join(message.split())}\n")
            sys.stderr.flush()


def fit_report(dataset: Dataset, settings: Settings, result: gmm.FitResult) -> dict:
    """What ``emviz fit --json`` prints."""
    return {
        "source": dataset.source,
        "k": settings.k,
        "n_points": dataset.n,
        "dropped_rows": dataset.dropped_rows,
        "columns": list(dataset.columns),
        "covariance": settings.covariance,
        "init": settings.init,
        "seed": settings.seed,
        "tol": settings.tol,
        "reg_covar": settings.reg_covar_for(dataset.points),
        **result.mixture.to_dict(),
        "log_likelihood": result.log_likelihood,
        "n_iter": result.n_iter,
        "converged": result.converged,
        "bic": result.bic,
        "aic": result.aic,
        "collapsed": list(_collapsed(result)),
        "warnings": fit_warnings(dataset, settings, result.history[-1]),
        "log_likelihood_history": [step.log_likelihood for step in result.history],
    }


def _collapsed(result: gmm.FitResult) -> tuple:
    """The components degenerate in the final mixture (on about one point, or at the regularisation floor)."""
    return tuple(result.collapsed)


def collapsed_line(collapsed) -> str:
    """The warning the table prints for degenerate components, or "" when there are none."""
    if not collapsed:
        return ""
    which = ", ".join(str(i) for i in collapsed)
    if len(collapsed) == 1:
        subject, verb, owner, add = f"component {which}", "sits", "its", "it adds"
    else:
        subject, verb, owner, add = f"components {which}", "sit", "their", "they add"
    return (
        f"collapsed: {subject} {verb} on about one point or at the regularisation floor; "
        f"{owner} parameters and the likelihood {add} are not a fit of a cluster "
        "(decrease k, or try another --seed or --init)"
    )


def _print_table(dataset: Dataset, settings: Settings, result: gmm.FitResult, out) -> None:
    print(f"data: {dataset.source} ({dataset.n} points; columns {', '.join(dataset.columns)})", file=out)
    if dataset.dropped_rows:
        print(dataset.dropped_message(), file=out)
    print(
        f"model: k={settings.k}, covariance {settings.covariance}, init {settings.init}, "
        f"seed {settings.seed}, tol {settings.tol:g}, reg_covar {settings.reg_covar_for(dataset.points):.3g}",
        file=out,
    )
    print(describe_state(result.history[-1], settings), file=out)
    if _collapsed(result):
        print(collapsed_line(_collapsed(result)), file=out)
    print(
        f"mean log-likelihood per point {result.log_likelihood:.6f}   BIC {result.bic:.2f}   AIC {result.aic:.2f}",
        file=out,
    )
    print(file=out)
    for line in component_table(result.mixture, _collapsed(result)):
        print(line, file=out)


def component_table(mixture: gmm.Mixture, collapsed=()) -> list[str]:
    """One line per component: weight, mean and covariance, with digits for the spread, not the offset.

    Means get the digits that resolve the smallest standard deviation of any
    component (data at 1e9 +- 1e-3 print their millionths); each covariance the
    digits of its own smallest variance (1e-6 does not print as 0).
    """
    variances = np.diagonal(mixture.covariances, axis1=1, axis2=2)
    positive = variances[variances > 0]
    sd = float(np.sqrt(positive.min())) if positive.size else 0.0
    means = format_for_spread(mixture.means, sd)
    d = mixture.d
    rows = [("component", "weight", "mean", "covariance")]
    for i in range(mixture.k):
        own = variances[i][variances[i] > 0]
        rows.append((
            f"{i} (collapsed)" if i in collapsed else str(i),
            f"{mixture.weights[i]:.4f}",
            "[" + ", ".join(means[i * d:(i + 1) * d]) + "]",
            format_matrix(mixture.covariances[i], float(own.min()) if own.size else 0.0),
        ))
    widths = [max(len(r[j]) for r in rows) for j in range(3)]
    return ["  ".join(cell.ljust(widths[j]) for j, cell in enumerate(r[:3])) + "  " + r[3] for r in rows]


@contextlib.contextmanager
def naming(dataset: Dataset):
    """A fit's complaint about the data ("only 2 distinct points") names where the data came from."""
    try:
        yield
    except DataError:
        raise
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(f"{dataset.source}:"):
            raise DataError(f"{dataset.source}: {message}") from None
        raise


def _emit(text: str) -> None:
    """Write the command's output; a full disk or a closed pipe is the environment's failure, not a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write to standard output ({exc.strerror or exc})") from None


def run_fit(argv) -> int:
    args = build_fit_parser().parse_args(argv)
    settings = _settings(args)
    dataset = _dataset(args)
    with naming(dataset):
        result = settings.fit(dataset)
    _warn(fit_warnings(dataset, settings, result.history[-1]))
    out = io.StringIO()
    if args.json:
        json.dump(fit_report(dataset, settings, result), out)
        out.write("\n")
    else:
        _print_table(dataset, settings, result, out)
    _emit(out.getvalue())
    return 0


def _parse_size(text):
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise DataError(f"--size {text!r} is not WIDTHxHEIGHT, e.g. 1500x950") from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise DataError(f"--size {text!r}: choose a width in 320..8000 and a height in 240..8000")
    return width, height


def _use_offscreen_qt():
    """Render without a display: Qt's offscreen platform, unless the caller chose one."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def run_render(argv) -> int:
    args = build_render_parser().parse_args(argv)
    if args.frame_ms > MAX_FRAME_MS:
        raise DataError(f"--frame-ms is at most {MAX_FRAME_MS} (a GIF frame's delay is stored in 16 bits of "
                        f"hundredths of a second), got {args.frame_ms}")
    settings = _settings(args)
    size = _parse_size(args.size)
    dataset, table = _plane(args)
    dataset.require_points(settings.k)  # before Qt starts; any other bad start fails as the window opens
    _use_offscreen_qt()
    from emviz.ui.render import render

    def warn(session):
        if session.finished:  # as the picture's status line: a run drawn before its end has no answer yet
            _warn(fit_warnings(session.dataset, session.settings, session.last))

    with naming(dataset):
        frames = render(
            dataset,
            settings,
            args.output,
            table=table,
            size=size,
            max_frames=args.max_frames,
            frame_ms=args.frame_ms,
            hard_labels=args.hard_labels,
            three_sigma=args.three_sigma,
            show_truth=args.show_truth,
            density=args.density,
            iteration=args.iteration,
            on_drawn=warn,
        )
    _emit(f"wrote {args.output} ({frames} frame{'s' if frames != 1 else ''})\n")
    return 0


def run_window(argv) -> int:
    from emviz.display import check_display_soon, closing_on_interrupt

    args = build_parser().parse_args(argv)
    display_problem = check_display_soon()  # its child process runs while the data load and Qt imports
    settings = Settings()
    load = _load_in_window(args)
    if load is None:
        dataset, table = _plane(args)
        if args.source in PRESETS and table is None:
            from emviz.preset_policy import preset_settings

            settings = preset_settings(args.source, settings)
        dataset.require_points(settings.k)  # before Qt starts; any other bad start fails as the window opens
        with naming(dataset):  # data beyond float64's range: said naming the file, before Qt starts
            gmm.check_scale(dataset.points, dataset.columns)
    else:
        dataset = table = None  # the window opens at once on the demo data and reads the file behind it
    from emviz.ui.window import make_app, run_app  # importing Qt needs no display; making the app does

    problem = display_problem()
    if problem:
        raise EnvironmentFailure(problem, status=2)  # the user chooses the display: exit 2, as for bad input

    app = make_app()
    if os.environ.get("EMVIZ_STARTUP_PROBE"):  # off by default: benchmarks/bench_startup.py's stopwatch
        from emviz.ui.startup_probe import install

        install(app, os.environ["EMVIZ_STARTUP_PROBE"])
    with closing_on_interrupt(app) as interrupted:
        status = run_app(dataset, settings, table) if load is None else run_app(dataset, settings, table, load=load)
    return 130 if interrupted() else status


COMMANDS = {"fit": run_fit, "render": run_render}


def main(argv=None) -> int:
    """Run one command; every failure ends in one line on stderr, never a traceback.

    Exit status: 0 done, 2 bad input (the message says what to change), 1 the
    environment failed (full disk, no display, out of memory, a bug), 130 Ctrl+C.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return run_window(argv)
    except (DataError, ValueError) as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # 'emviz fit ... | head': the reader has what it wanted
        _silence_stdout()
        return 0
    except EnvironmentFailure as exc:
        _silence_stdout()
        return _fail(str(exc), exc.status)
    except MemoryError:
        return _fail("out of memory; use fewer points or columns, or a smaller k", 1)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}", 1)
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug, said in one line
        return _fail(f"unexpected {type(exc).__name__}: {exc}; please report this", 1)


def _fail(message: str, status: int) -> int:
    message = " ".join(message.split())
    if len(message) > 1000:
        message = message[:1000] + "..."
    try:
        sys.stderr.write(f"emviz: error: {message}\n")
        sys.stderr.flush()
    except OSError:
        pass
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of unwritable output stays quiet."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured by a test, or already closed
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
