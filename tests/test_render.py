"""`emviz render` and `emviz FILE`: the window's drawing without a display, and the window's front door."""

import numpy as np
import pytest
from PIL import Image

import emviz.ui.window
from emviz.cli import main
from emviz.ui import palette
from emviz.session import Settings
from emviz.ui.render import frame_indices


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_render_png_is_the_window_at_the_end_of_the_fit(qapp, capsys, tmp_path):
    out = tmp_path / "fit.png"
    code, stdout, err = run(capsys, "render", "article", "-o", str(out), "--size", "1200x800")
    assert (code, err) == (0, "") and stdout == f"wrote {out} (1 frame)\n"
    image = Image.open(out)
    assert image.size == (1200, 800)
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    for color in palette.rgb(3).astype(int):
        assert (np.abs(rgb - color).sum(axis=1) < 30).sum() > 1000


def test_render_says_on_stderr_what_fit_says_when_reg_covar_sets_the_answer(qapp, capsys, tmp_path):
    code, _, said = run(capsys, "fit", "article", "--reg-covar", "1e3")
    assert code == 0 and said.startswith("emviz: warning: preset 'article': reg_covar 1e+03 is 99.8% of a fitted")
    assert said.count("\n") == 1
    for name in ("fit.png", "run.gif"):
        out = tmp_path / name
        code, stdout, err = run(capsys, "render", "article", "--reg-covar", "1e3", "--size", "800x600", "-o", str(out))
        assert (code, err) == (0, said) and stdout.startswith(f"wrote {out} (")


def test_render_gif_has_a_frame_per_iteration_capped(qapp, capsys, tmp_path):
    out = tmp_path / "run.gif"
    code, stdout, _ = run(capsys, "render", "article", "--init", "random", "--seed", "1", "--tol", "1e-7",
                          "--max-frames", "12", "--frame-ms", "50", "-o", str(out))
    assert code == 0 and stdout == f"wrote {out} (12 frames)\n"
    gif = Image.open(out)
    assert gif.n_frames == 12 and gif.size[0] == 880
    first = np.asarray(gif.convert("RGB")).copy()
    gif.seek(11)
    assert not np.array_equal(first, np.asarray(gif.convert("RGB")))  # the ellipses moved
    short = tmp_path / "short.gif"
    code, stdout, _ = run(capsys, "render", "cross", "-k", "2", "--max-iter", "4", "-o", str(short))
    assert code == 0 and Image.open(short).n_frames == 5  # iterations 0..4


def test_frame_indices_keep_first_and_last():
    assert frame_indices(5, 10) == [0, 1, 2, 3, 4]
    picked = frame_indices(1000, 150)
    assert picked[0] == 0 and picked[-1] == 999 and len(picked) == 150


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "article", "-o", "out.jpg"], "emviz: error: out.jpg: the output must end in .png or .gif"),
        (["render", "article", "-o", "nowhere/out.png"], "emviz: error: nowhere/out.png: the folder nowhere does not exist"),
        (["render", "article", "-o", "x.png", "--size", "big"], "emviz: error: --size 'big' is not WIDTHxHEIGHT"),
        (["render", "article", "-o", "x.png", "-k", "601"], "emviz: error: preset 'article': 600 points are fewer than k=601"),
        (["render", "article"], "emviz: error: the following arguments are required: -o/--output"),
        (["render", "article", "-o", "x.gif", "--frame-ms", "5"], "emviz: error: --frame-ms must be at least 20"),
        (["render", "article", "-o", "x.gif", "--max-frames", "1"], "emviz: error: --max-frames must be at least 2"),
        (["render", "article", "-o", "x.png", "--data-seed", "-1"],
         "emviz: error: the data seed must be an integer >= 0, got -1"),
        (["render", "article", "-o", "x.png", "--seed", "-2"], "emviz: error: seed must be an integer >= 0, got -2"),
    ],
)
def test_render_errors(qapp, capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1


def test_emviz_without_a_display_says_so_instead_of_aborting(capsys, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    code, _, err = run(capsys)
    assert code == 2
    assert err == ("emviz: error: no display to open the window on (DISPLAY is not set); "
                   "'emviz render FILE|PRESET -o out.png' draws without one\n")


@pytest.fixture
def opened(monkeypatch):
    """What `emviz FILE` would open, instead of the event loop."""
    calls = []
    monkeypatch.setattr(emviz.ui.window, "run_app", lambda *args: calls.append(args) or 0)
    return calls


def test_emviz_opens_the_article_by_default(capsys, opened):
    assert run(capsys)[0] == 0
    dataset, settings, table = opened[0]
    assert dataset.name == "article" and settings.init == "random" and settings.tol == 1e-7 and table is None


def test_emviz_file_opens_the_first_two_numeric_columns(capsys, opened, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("id,u,v,w\n" + "\n".join(f"r{i},{i % 7},{i % 5},{i % 3}" for i in range(30)) + "\n")
    assert run(capsys, str(path))[0] == 0
    dataset, _, table = opened[-1]
    assert dataset.columns == ("u", "v") and table.numeric_columns == ("u", "v", "w")
    assert run(capsys, str(path), "--columns", "w,u")[0] == 0
    assert opened[-1][0].columns == ("w", "u")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nosuch"], "emviz: error: nosuch: no such file or preset"),
        (["article", "--columns", "x,y"], "emviz: error: article: --columns applies to CSV files only"),
    ],
)
def test_emviz_reports_bad_input_before_opening(capsys, opened, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith(message) and not opened


def test_emviz_refuses_three_columns_and_one_column(capsys, opened, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("name,x\na,1\nb,2\n")
    code, _, err = run(capsys, str(one))
    assert code == 2 and "only one column holds numbers ('x'); emviz needs two" in err
    three = tmp_path / "three.csv"
    three.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9\n")
    code, _, err = run(capsys, str(three), "--columns", "a,b,c")
    assert code == 2 and "the window shows two columns, 3 are chosen (a, b, c); choose two" in err and not opened


def test_render_does_what_the_window_toggles_do(qapp, capsys, tmp_path):
    plain, toggled, early = tmp_path / "plain.png", tmp_path / "toggled.png", tmp_path / "early.png"
    common = ["render", "generate", "--true-k", "3", "--points", "400", "--separation", "1.5", "--data-seed", "2"]
    assert run(capsys, *common, "-o", str(plain))[0] == 0
    assert run(capsys, *common, "--hard-labels", "--three-sigma", "--show-truth", "-o", str(toggled))[0] == 0
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (plain, toggled))
    dark_grey = (np.abs(b - 60).sum(axis=2) < 30).sum() - (np.abs(a - 60).sum(axis=2) < 30).sum()
    assert dark_grey > 200  # the dashed grey ellipses of the true mixture
    mixed = lambda img: len(np.unique(img.reshape(-1, 3), axis=0))  # noqa: E731
    assert mixed(b) < mixed(a)  # hard labels: only pure component colours on the points
    assert run(capsys, *common, "--iteration", "1", "-o", str(early))[0] == 0
    assert not np.array_equal(np.asarray(Image.open(early)), np.asarray(Image.open(plain)))
    code, _, err = run(capsys, *common, "--iteration", "5000", "-o", str(early))
    assert code == 2 and "--iteration 5000: the run ended at iteration" in err
    code, _, err = run(capsys, *common, "--iteration", "2", "-o", str(tmp_path / "x.gif"))
    assert code == 2 and "--iteration takes a number >= 0 and draws one .png" in err


def test_emviz_generate_opens_a_generated_mixture(capsys, opened):
    assert run(capsys, "generate")[0] == 0
    dataset, settings, table = opened[-1]
    assert dataset.source == "generated" and dataset.mixture.k == 3 and settings == Settings() and table is None


def test_the_window_shows_the_settings_that_drew_the_points(qapp):
    from emviz.data import load
    from emviz.ui.window import MainWindow

    window = MainWindow(load("generate", n=400, seed=2, true_k=4, separation=1.5), Settings(k=4))
    d = window.data_controls
    assert (d.points.value(), d.data_seed.value(), d.true_k.value(), d.separation.value()) == (400, 2, 4, 1.5)
    window.close()


def test_a_start_that_cannot_be_made_is_one_line_from_render(qapp, capsys, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,b\n1,1\n1,1\n2,2\n2,2\n")
    code, _, err = run(capsys, "render", str(path), "-o", str(tmp_path / "d.png"))
    assert code == 2 and err == f"emviz: error: {path}: k=3 components but the data have only 2 distinct points; decrease k\n"


def test_render_density_shades_the_fitted_mixture(qapp, capsys, tmp_path):
    plain, shaded = tmp_path / "plain.png", tmp_path / "shaded.png"
    common = ["render", "article", "--size", "1200x760"]  # room for the menu bar and the bound beside the curve
    assert run(capsys, *common, "-o", str(plain))[0] == 0
    assert run(capsys, *common, "--density", "-o", str(shaded))[0] == 0
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (plain, shaded))
    slate = lambda img: ((img[..., 2] - img[..., 0] > 25) & (img.sum(axis=2) > 300)  # noqa: E731
                         & (np.abs(img[..., 1] - (img[..., 0] + img[..., 2]) / 2) < 20)).sum()
    assert slate(b) > slate(a) + 20_000  # a bluish-grey shade around the three components
