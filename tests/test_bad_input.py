"""Bad input and a hostile environment: every case ends in its exact message and exit status.

Exit status 2 and one line for bad input, 1 for an environment failure (a full disk),
130 for Ctrl+C; never a traceback, never a hang, never memory exhausted.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import emviz.cli
from emviz import display
from emviz.cli import main
from emviz.data import DataError, load_csv

POINTS = "the number of points is at most 10,000,000 (10 million 2-d points take about 1 GB once fitted), got "
SEPARATION = ("separation must be a number from 0 to 1e+06 standard deviations "
              "(further apart, rounding erases the clusters' shape), got ")
REG_COVAR = ("reg_covar must be a number from 0 to 1e300 (it is added to every variance; the data's own are "
             "below 1e290), got ")
ENV = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    return "ok.csv"


CLI_CASES = {
    "a billion points": (["fit", "generate", "--points", "1000000000"], POINTS + "1,000,000,000"),
    "a billion points rendered": (["render", "generate", "--points", "1000000000", "-o", "x.png"],
                                  POINTS + "1,000,000,000"),
    "a million true components": (["fit", "generate", "--true-k", "1000000"],
                                  "the number of components is at most 1,000 (each component is a cluster to see "
                                  "and to fit), got 1,000,000"),
    "separation 1e308": (["fit", "generate", "--separation", "1e308"], SEPARATION + "1e+308"),
    "separation nan": (["fit", "generate", "--separation", "nan"], SEPARATION + "nan"),
    "separation negative": (["fit", "generate", "--separation", "-1"], SEPARATION + "-1.0"),
    "zero points": (["fit", "generate", "--points", "0"], "the number of points must be a positive integer, got 0"),
    "points with a CSV": (["fit", "ok.csv", "--points", "100"],
                          "ok.csv: --points applies to presets and 'generate'; a CSV file's points are its rows"),
    "data seed with a CSV": (["fit", "ok.csv", "--data-seed", "1"],
                             "ok.csv: --data-seed applies to presets and 'generate'; a CSV file's points are its rows"),
    "true k with a preset": (["fit", "article", "--true-k", "4"], "article: --true-k applies to 'generate' only"),
    "two generate options with a preset": (["fit", "article", "--separation", "2", "--true-k", "2"],
                                           "article: --true-k and --separation apply to 'generate' only"),
    "k beyond the limit": (["fit", "article", "-k", "5000"],
                           "preset 'article': k=5000 components is more than emviz fits (1000); decrease k"),
    "k beyond the points": (["fit", "ok.csv", "-k", "4"],
                            "ok.csv: 3 points are fewer than k=4 components; decrease k or use more data"),
    "a device as CSV": (["fit", "/dev/zero"],
                        "/dev/zero: is a device or special file, not a regular file; save the data to a file and open that"),
    "zero megabytes": (["fit", "ok.csv", "--max-csv-mb", "0"], "--max-csv-mb must be a positive number of megabytes, got 0"),
    "no such column": (["fit", "ok.csv", "--columns", "x,zz"], "ok.csv: no column named 'zz'; the columns are: x, y"),
    "columns with a preset": (["fit", "article", "--columns", "x,y"], "article: --columns applies to CSV files only"),
    "no such file": (["fit", "missing.csv"], "missing.csv: no such file"),
    "no such preset": (["fit", "nosuch"], "nosuch: no such file or preset; presets are: article"),
    "an empty source": (["fit", ""], "the data source is empty; give a CSV file, a preset (article, "),
    "a folder": (["fit", "."], ".: is a folder, not a CSV file"),
    "one distinct point": (["fit", "same.csv", "-k", "2"],
                           "same.csv: k=2 components but the data have only 1 distinct points; decrease k"),
    "a negative data seed": (["fit", "article", "--data-seed", "-1"], "the data seed must be an integer >= 0, got -1"),
    "a GIF frame longer than GIF can say": (["render", "article", "-o", "x.gif", "--frame-ms", "10000000000000"],
                                            "--frame-ms is at most 655350 (a GIF frame's delay is stored in 16 bits "
                                            "of hundredths of a second), got 10000000000000"),
    "an argparse error": (["fit", "article", "-k", "three"], "argument -k: invalid int value: 'three'"),
    **{f"reg_covar {value}": (["fit", "article", f"--reg-covar={value}"], REG_COVAR + shown)
       for value, shown in [("1e308", "1e+308"), ("1e301", "1e+301"), ("inf", "inf"), ("nan", "nan"),
                            ("-1e-9", "-1e-09")]},
    "reg_covar 1e308 rendered": (["render", "article", "-o", "x.png", "--reg-covar", "1e308"], REG_COVAR + "1e+308"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_command_line_is_one_line_and_exit_status_2(capsys, small_csv, tmp_path, case):
    (tmp_path / "same.csv").write_text("x,y\n" + "1,1\n" * 5)
    argv, message = CLI_CASES[case]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("emviz: error: " + message), err
    assert err.count("\n") == 1


def csv_error(tmp_path, content, name="data.csv", **options):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_csv(path, **options)
    return str(info.value)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == (f"{path}: is a named pipe (FIFO), not a regular file; "
                               "save the data to a file and open that")


def test_a_file_over_the_cap_is_refused_and_the_cap_can_be_lifted(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.csv").write_text("x,y\n" + "1.25,2.5\n3,4\n" * 100)  # 1404 bytes
    monkeypatch.setenv("EMVIZ_MAX_CSV_MB", "0.001")
    code, _, err = run(capsys, "fit", "big.csv", "-k", "1")
    assert code == 2
    assert err == ("emviz: error: big.csv: the file is larger than 0.001 MB, the most emviz reads by default; "
                   "set EMVIZ_MAX_CSV_MB (or --max-csv-mb) to a larger number of megabytes if memory allows\n")
    code, out, _ = run(capsys, "fit", "big.csv", "-k", "1", "--max-csv-mb", "0.01")
    assert code == 0 and "data: big.csv (200 points" in out
    monkeypatch.setenv("EMVIZ_MAX_CSV_MB", "lots")
    code, _, err = run(capsys, "fit", "big.csv")
    assert (code, err) == (2, "emviz: error: EMVIZ_MAX_CSV_MB='lots' is not a positive number of megabytes\n")


def test_a_table_too_wide_is_refused_before_it_is_sniffed(tmp_path):
    message = csv_error(tmp_path, ((",".join(["1"] * 100_000) + "\n") * 3).encode())
    assert message == (f"{tmp_path / 'data.csv'}: line 1 has more than 10,000 columns, the most emviz reads "
                       "(every column is sniffed and converted); save the columns to fit in a narrower file")


def test_too_many_columns_to_fit_say_to_choose(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wide.csv").write_text((",".join(["1", "2", "3"] * 50) + "\n") * 3 + ",".join(["4"] * 150) + "\n")
    code, _, err = run(capsys, "fit", "wide.csv", "-k", "1")
    assert (code, err) == (2, "emviz: error: wide.csv: 150 columns are more than emviz fits at once (100: a full "
                              "covariance has d² entries); choose the columns to fit with --columns\n")


def test_a_huge_cell_is_never_echoed_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    huge = "z" * 10_000_000
    (tmp_path / "huge.csv").write_text("x,y\n1,2\n3,4\n5,6\n" + f"7,{huge}\n")
    code, out, err = run(capsys, "fit", "huge.csv", "-k", "1")
    assert code == 0 and err == ""
    assert ("huge.csv: dropped 1 row with missing, non-numeric or infinite values (first: line 5, column 'y': "
            "'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'... (10 million characters in all))") in out
    assert len(out) < 2000
    code, _, err = run(capsys, "fit", "huge.csv", "--columns", "x," + huge)
    assert code == 2 and len(err) < 400 and "(10 million characters in all)" in err


@pytest.mark.parametrize("written", ["NA", "n/a", "nan", "-", "null", "N/A", "#N/A", "?"])
def test_a_missing_value_is_reported_as_written(tmp_path, written):
    path = tmp_path / "gaps.csv"
    path.write_text(f"x,y\n1,2\n3,{written}\n5,6\n")
    dataset = load_csv(path)
    assert dataset.dropped_example == f"line 3, column 'y': {written!r}"


def test_an_empty_cell_is_reported_as_empty(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("x,y\n1,2\n3,\n5,6\n")
    assert load_csv(path).dropped_example == "line 3, column 'y': empty"


def test_a_reg_covar_that_sets_the_answer_is_said_on_stderr_and_in_the_json(capsys):
    said = ("preset 'article': reg_covar 1e+03 is 99.8% of a fitted component's variance: the "
            "regularisation, not the data, sets the covariances; use a smaller reg_covar, or the default "
            "(4.79e-09 for these data)")
    code, out, err = run(capsys, "fit", "article", "--reg-covar", "1e3")
    assert code == 0 and "reg_covar 1e+03" in out
    assert err == f"emviz: warning: {said}\n"
    code, out, err = run(capsys, "fit", "article", "--reg-covar", "1e3", "--json")
    assert code == 0 and json.loads(out)["warnings"] == [said] and err == f"emviz: warning: {said}\n"
    code, out, err = run(capsys, "fit", "article", "--reg-covar", "1e300", "--json")
    assert code == 0 and err.startswith("emviz: warning: preset 'article': reg_covar 1e+300 is 100% of")
    for quiet in (["--reg-covar", "1e-4"], []):  # 1e-4 of unit-variance clusters, and the default: nothing to say
        code, out, err = run(capsys, "fit", "article", "--json", *quiet)
        assert (code, err, json.loads(out)["warnings"]) == (0, "", [])


RANGE = "(emviz fits columns that spread (max - min) over 1e-145 to 1e145, with values up to 1e290)"


@pytest.mark.parametrize("scale, said", [
    (1e160, "'mass' spreads over 1.1e+161: squares of that overflow float64 (largest about 1.8e308); "
            "divide that column by 1e161 " + RANGE),
    (1e-160, "'mass' spreads over only 1.1e-159: covariances of that size are below what float64 holds "
             "(about 2.2e-308); multiply that column by 1e159 " + RANGE),
])
def test_data_beyond_float64_are_refused_naming_the_column_and_the_range(capsys, tmp_path, monkeypatch, scale, said):
    # fitting in rescaled internal units would not help: the covariance in the data's units
    # (1e322 or 1e-318) is not a float64 either
    monkeypatch.chdir(tmp_path)
    rows = "\n".join(f"{i % 7},{(i % 12) * scale!r}" for i in range(60))
    (tmp_path / "far.csv").write_text("length,mass\n" + rows + "\n")
    for argv in (["fit", "far.csv", "-k", "2"], ["far.csv"]):  # the window's too, before it opens
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, "")
        assert err == f"emviz: error: far.csv: column {said}\n"


def test_the_fit_message_names_the_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.csv").write_text("x,y\n" + "2,3\n" * 10)
    code, _, err = run(capsys, "fit", "one.csv", "-k", "3")
    assert code == 2 and err.startswith("emviz: error: one.csv: ")


# ------------------------------------------------------------------ the environment


def emviz_process(*argv, env=None, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "emviz", *argv], cwd=ROOT, env=env or ENV, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=300)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["fit", "article"], ["fit", "article", "--json"]])
def test_a_full_disk_is_one_line_and_exit_status_1(argv):
    with open("/dev/full", "w") as full:
        proc = emviz_process(*argv, stdout=full)
    assert proc.returncode == 1
    assert proc.stderr == "emviz: error: cannot write to standard output (No space left on device)\n"


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.run(f"'{sys.executable}' -m emviz fit article | head -c 10", shell=True, cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout == "data: pres" and proc.stderr == ""


def test_an_unknown_failure_is_one_line_and_exit_status_1(capsys, monkeypatch):
    def broken(argv):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setitem(emviz.cli.COMMANDS, "fit", broken)
    assert run(capsys, "fit", "article") == (1, "", "emviz: error: unexpected RuntimeError: boom second line; "
                                                    "please report this\n")

    def exhausted(argv):
        raise MemoryError

    monkeypatch.setitem(emviz.cli.COMMANDS, "fit", exhausted)
    assert run(capsys, "fit", "article") == (1, "", "emviz: error: out of memory; use fewer points or columns, "
                                                    "or a smaller k\n")


def test_a_bogus_qt_platform_is_caught_before_qt_aborts():
    proc = emviz_process("article", env={**ENV, "QT_QPA_PLATFORM": "bogus"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("emviz: error: QT_QPA_PLATFORM='bogus' names no Qt platform installed here "
                                  "(there are: ")
    assert proc.stderr.endswith("unset it to use the display, or 'emviz render FILE|PRESET -o out.png' draws "
                                "without one\n")


def test_a_display_with_no_server_is_caught_before_qt_aborts():
    free = next(n for n in range(99, 200) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    proc = emviz_process("article", env={**ENV, "DISPLAY": f":{free}"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("emviz: error: ") and proc.stderr.count("\n") == 1
    assert f"DISPLAY=':{free}'" in proc.stderr and "'emviz render FILE|PRESET -o out.png'" in proc.stderr


@pytest.mark.parametrize("said, expected", [
    ("qt.qpa.xcb: could not connect to display :99\n", "no display server answers at DISPLAY=':99'"),
    ('qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.\n',
     "Qt cannot load its platform plugin for DISPLAY=':99': a system library is missing"),
    ("something else\n", "Qt cannot open a window at DISPLAY=':99' (it exits with status 134)"),
])
def test_what_the_display_probe_says(monkeypatch, said, expected):
    monkeypatch.setattr(display.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 134, "", said))
    assert display.check_display({"DISPLAY": ":99"}).startswith(expected)


def test_the_display_check_started_early_says_the_same(monkeypatch):
    # cli.run_window starts the probe first and reads its sentence just before making the app
    monkeypatch.setattr(display.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 134, "", "could not connect to display"))
    assert display.check_display_soon({"DISPLAY": ":99"})() == display.check_display({"DISPLAY": ":99"})
    assert display.check_display_soon({"DISPLAY": ":99"})().startswith("no display server answers at DISPLAY=':99'")
    assert display.check_display_soon({"QT_QPA_PLATFORM": "offscreen"})() == ""

    def broken(*args, **kwargs):
        raise RuntimeError("the check itself failed")

    monkeypatch.setattr(display, "_probe", broken)
    with pytest.raises(RuntimeError, match="the check itself failed"):
        display.check_display_soon({"DISPLAY": ":99"})()


def test_a_working_display_passes(monkeypatch):
    monkeypatch.setattr(display.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    assert display.check_display({"DISPLAY": ":0"}) == ""
    assert display.check_display({"QT_QPA_PLATFORM": "offscreen"}) == ""


SIGINT_SCRIPT = textwrap.dedent("""
    import sys
    from emviz.ui import window

    shown = window.MainWindow.show

    def show(self):
        shown(self)
        if sys.argv[1] == "running":
            self.run_controls.run.click()
        print("ready", flush=True)

    window.MainWindow.show = show
    from emviz.cli import main

    sys.exit(main(["article"]))
""")


@pytest.mark.parametrize("state", ["idle", "running"])
def test_ctrl_c_closes_the_window_cleanly(tmp_path, state):
    script = tmp_path / "window.py"
    script.write_text(SIGINT_SCRIPT)
    env = {**ENV, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, str(script), state], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
