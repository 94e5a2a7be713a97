"""The command line: ``emviz [FILE]`` (the window), ``emviz fit``, ``emviz render``.

Bad input ends with exit status 2 and one line ``emviz: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from emviz import __version__, gmm
from emviz.data import GENERATE, PRESETS, DataError, Dataset, load
from emviz.session import Settings, describe_state

_PRESET_LIST = ", ".join(PRESETS)


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, like every other emviz error."""

    def error(self, message):  # noqa: D401 - argparse's hook
        self.exit(2, f"emviz: error: {message} (see '{self.prog} --help')\n")


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
        help="added to every covariance diagonal (default: 1e-6 times the smallest column variance)",
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
    from pathlib import Path

    from emviz.data import PRESETS, read_csv_table

    if args.source in (*PRESETS, GENERATE) and not Path(args.source).exists():
        return _dataset(args), None
    if not Path(args.source).exists():
        load(args.source)  # raises with the same message as 'emviz fit' gives
    table = read_csv_table(args.source)
    return table.plane(_columns(args)), table


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
        "log_likelihood_history": [step.log_likelihood for step in result.history],
    }


def _matrix(a) -> str:
    return np.array2string(np.asarray(a), precision=4, suppress_small=True, separator=", ", max_line_width=200).replace("\n", "")


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
    print(
        f"mean log-likelihood per point {result.log_likelihood:.6f}   BIC {result.bic:.2f}   AIC {result.aic:.2f}",
        file=out,
    )
    print(file=out)
    rows = [("component", "weight", "mean", "covariance")]
    mixture = result.mixture
    for i in range(mixture.k):
        rows.append((str(i), f"{mixture.weights[i]:.4f}", _matrix(mixture.means[i]), _matrix(mixture.covariances[i])))
    widths = [max(len(r[j]) for r in rows) for j in range(3)]
    for r in rows:
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(r[:3])) + "  " + r[3], file=out)


def run_fit(argv) -> int:
    args = build_fit_parser().parse_args(argv)
    settings = _settings(args)
    dataset = _dataset(args)
    result = settings.fit(dataset)
    if args.json:
        json.dump(fit_report(dataset, settings, result), sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_table(dataset, settings, result, sys.stdout)
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
    settings = _settings(args)
    size = _parse_size(args.size)
    dataset, table = _plane(args)
    dataset.require_points(settings.k)  # before Qt starts; any other bad start fails as the window opens
    _use_offscreen_qt()
    from emviz.ui.render import render

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
        iteration=args.iteration,
    )
    print(f"wrote {args.output} ({frames} frame{'s' if frames != 1 else ''})")
    return 0


def _check_display():
    """Qt aborts the process when it finds no display: say so, and what works without one."""
    import os

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise DataError(
            "no display to open the window on (DISPLAY is not set); "
            "'emviz render FILE|PRESET -o out.png' draws without one"
        )


def run_window(argv) -> int:
    args = build_parser().parse_args(argv)
    _check_display()
    dataset, table = _plane(args)
    settings = Settings()
    if args.source in PRESETS and table is None:
        from emviz.preset_policy import preset_settings

        settings = preset_settings(args.source, settings)
    dataset.require_points(settings.k)  # before Qt starts; any other bad start fails as the window opens
    from emviz.ui.window import run_app

    return run_app(dataset, settings, table)


COMMANDS = {"fit": run_fit, "render": run_render}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return run_window(argv)
    except (DataError, ValueError) as exc:
        print("emviz: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
