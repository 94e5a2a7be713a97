"""The headless front door: `emviz fit` as scripts and users call it."""

import json
import subprocess
import sys

import numpy as np
import pytest

from emviz.cli import main

ARTICLE = json.loads(
    (__import__("pathlib").Path(__file__).resolve().parents[1] / "emviz" / "assets" / "article_results.json").read_text()
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def match_components(found_means, true_means):
    order = [int(np.argmin(np.linalg.norm(np.asarray(found_means) - m, axis=1))) for m in true_means]
    assert sorted(order) == list(range(len(true_means))), "two true components matched one fitted one"
    return order


def test_fit_article_json_recovers_the_articles_three_components(capsys):
    code, out, err = run(capsys, "fit", "article", "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    for key in ("k", "n_points", "dropped_rows", "columns", "weights", "means", "covariances",
                "log_likelihood", "n_iter", "converged", "bic", "aic"):
        assert key in report
    assert report["k"] == 3 and report["n_points"] == 600 and report["converged"]
    order = match_components(report["means"], ARTICLE["means"])
    np.testing.assert_allclose(np.array(report["means"])[order], ARTICLE["means"], atol=0.25)
    np.testing.assert_allclose(np.array(report["weights"])[order], ARTICLE["weights"], atol=0.05)
    np.testing.assert_allclose(np.array(report["covariances"])[order], ARTICLE["covariances"], atol=0.5)
    assert len(report["log_likelihood_history"]) == report["n_iter"] + 1


def test_fit_old_faithful_finds_its_two_clusters(capsys):
    code, out, _ = run(capsys, "fit", "old-faithful", "-k", "2", "--json")
    report = json.loads(out)
    assert code == 0 and report["columns"] == ["eruptions", "waiting"] and report["n_points"] == 272
    # the classic result: short eruptions after short waits, long after long
    order = np.argsort(np.array(report["means"])[:, 0])
    np.testing.assert_allclose(np.array(report["weights"])[order], [0.356, 0.644], atol=0.005)
    np.testing.assert_allclose(np.array(report["means"])[order], [[2.04, 54.5], [4.29, 80.0]], atol=0.05)


def test_fit_table_is_readable(capsys, tmp_path):
    path = tmp_path / "pts.csv"
    rng = np.random.default_rng(0)
    rows = ["a;b;label"] + [f"{x:.6f};{y:.6f};p".replace(".", ",") for x, y in rng.normal(size=(60, 2))]
    rows[5] = "NA;1;p"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = run(capsys, "fit", str(path), "-k", "2", "--covariance", "diag", "--seed", "3")
    assert code == 0 and err == ""
    assert f"data: {path} (59 points; columns a, b)" in out
    assert f"{path}: dropped 1 row with missing, non-numeric or infinite values (first: line 6, column 'a': 'NA')" in out
    assert "model: k=2, covariance diag, init kmeans++, seed 3" in out
    assert "converged after" in out
    assert "component  weight" in out and out.count("\n0 ") + out.count("\n1 ") == 2


def test_every_option_reaches_the_fit(capsys):
    code, out, _ = run(
        capsys, "fit", "cross", "-k", "2", "--seed", "4", "--tol", "1e-9", "--max-iter", "7",
        "--covariance", "tied", "--init", "random-points", "--reg-covar", "0.01", "--points", "100",
        "--data-seed", "5", "--json",
    )
    report = json.loads(out)
    assert code == 0
    assert (report["k"], report["n_points"], report["covariance"], report["init"], report["seed"]) == (
        2, 100, "tied", "random-points", 4)
    assert report["tol"] == 1e-9 and report["reg_covar"] == 0.01 and report["n_iter"] <= 7
    assert np.allclose(report["covariances"][0], report["covariances"][1])


def test_columns_option(capsys, tmp_path):
    path = tmp_path / "three.csv"
    rng = np.random.default_rng(1)
    np.savetxt(path, rng.normal(size=(40, 3)), delimiter=",", header="p,q,r", comments="")
    code, out, _ = run(capsys, "fit", str(path), "--columns", "r,0", "-k", "1", "--json")
    assert code == 0 and json.loads(out)["columns"] == ["r", "p"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "nosuch"], "emviz: error: nosuch: no such file or preset; presets are: article"),
        (["fit", "missing.csv"], "emviz: error: missing.csv: no such file"),
        (["fit", "article", "-k", "0"], "emviz: error: k must be a positive integer, got 0"),
        (["fit", "article", "-k", "700"], "emviz: error: preset 'article': 600 points are fewer than k=700"),
        (["fit", "article", "--covariance", "round"], "emviz: error: argument --covariance: invalid choice: 'round'"),
        (["fit", "article", "--tol", "-1"], "emviz: error: tol must be a finite number >= 0, got -1.0"),
        (["fit", "article", "-k", "three"], "emviz: error: argument -k: invalid int value: 'three'"),
        (["fit"], "emviz: error: the following arguments are required: FILE|PRESET"),
        (["fit", "article", "--columns", "x,y"], "emviz: error: article: --columns applies to CSV files only"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors leave through SystemExit
        code = exit_.code
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_csv_through_the_installed_command(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3,4,5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "emviz", "fit", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"emviz: error: {path}: line 3 has 3 fields but the header has 2 (separator: comma); " \
        "fix that row or quote the text that contains the separator\n"


def test_help_explains_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", "--help"])
    out, _ = capsys.readouterr()
    out = " ".join(out.split())  # argparse wraps lines at the terminal width
    assert info.value.code == 0
    assert "(default: None)" not in out
    for option, default in [("-k", "3"), ("--seed", "0"), ("--tol", "1e-06"), ("--max-iter", "1000"),
                            ("--covariance", "full"), ("--init", "kmeans++"), ("--columns", None),
                            ("--json", None), ("--reg-covar", "relative to the data, 1e-6 times the square of the finest gap")]:
        assert option in out
        if default:
            assert f"default: {default}" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    out, _ = capsys.readouterr()
    assert "emviz fit FILE|PRESET" in out and "old-faithful" in out


def test_table_formats_for_the_spread_not_the_offset(capsys, tmp_path):
    rng = np.random.default_rng(3)
    points = 1e9 + 1e-3 * rng.normal(size=(400, 2)) @ np.array([[1.0, 0.0], [0.5, 0.8]])
    path = tmp_path / "far.csv"
    np.savetxt(path, points, delimiter=",", header="x,y", comments="", fmt="%.17g")
    code, out, _ = run(capsys, "fit", str(path), "-k", "1")
    assert code == 0
    row = out.splitlines()[-1]
    code, json_out, _ = run(capsys, "fit", str(path), "-k", "1", "--json")
    report = json.loads(json_out)
    mean_text = row.split("[", 1)[1].split("]", 1)[0]
    printed_mean = [float(v) for v in mean_text.split(",")]
    np.testing.assert_allclose(printed_mean, report["means"][0], rtol=0, atol=1e-6)
    covariance_text = row[row.index("[["):]
    printed = np.array([float(v) for v in covariance_text.replace("[", "").replace("]", "").split(",")])
    np.testing.assert_allclose(printed, np.ravel(report["covariances"][0]), rtol=2e-3)
    assert np.all(printed != 0)


def collapsing_csv(tmp_path):
    """A cluster and one far point: with k=2, one component sits on that point alone."""
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(size=(200, 2)), [[60.0, 60.0]]])
    path = tmp_path / "outlier.csv"
    np.savetxt(path, points, delimiter=",", header="x,y", comments="", fmt="%.17g")
    return path


@pytest.mark.skipif(not hasattr(__import__("emviz.gmm").gmm.FitResult, "collapsed"),
                    reason="the engine does not report collapsed components yet")
def test_collapsed_components_are_said_in_the_table_and_the_json(capsys, tmp_path):
    path = collapsing_csv(tmp_path)
    code, out, _ = run(capsys, "fit", str(path), "-k", "2", "--json")
    report = json.loads(out)
    assert code == 0
    far = int(np.argmax(np.array(report["means"])[:, 0]))
    assert report["collapsed"] == [far]
    code, out, _ = run(capsys, "fit", str(path), "-k", "2")
    assert code == 0
    assert (f"collapsed: component {far} sits on about one point or at the regularisation floor; its "
            "parameters and the likelihood it adds are not a fit of a cluster (decrease k, or try another "
            "--seed or --init)") in out
    rows = out.splitlines()[-2:]
    assert rows[far].startswith(f"{far} (collapsed)") and not rows[1 - far].startswith(f"{1 - far} (collapsed)")
    code, out, _ = run(capsys, "fit", "article", "--json")
    assert json.loads(out)["collapsed"] == []
