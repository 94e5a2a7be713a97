"""CSV files as people save them, every error message, the presets and the generator."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emviz.data import PRESETS, DataError, Dataset, generate, load, load_csv, read_csv_table

ASSETS = Path(__file__).resolve().parents[1] / "emviz" / "assets"


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


EXPECTED = [[1.5, 2.5], [3.5, 4.5], [5.0, 6.25]]

FORMS = {
    "comma with header": "x,y\n1.5,2.5\n3.5,4.5\n5,6.25\n",
    "semicolon, decimal comma": "x;y\n1,5;2,5\n3,5;4,5\n5;6,25\n",
    "semicolon, decimal comma, no header": "1,5;2,5\n3,5;4,5\n5;6,25\n",
    "tab": "x\ty\n1.5\t2.5\n3.5\t4.5\n5\t6.25\n",
    "tab, decimal comma": "x\ty\n1,5\t2,5\n3,5\t4,5\n5\t6,25\n",
    "white space, ragged": "  x    y\n 1.5   2.5\n3.5 4.5\n  5    6.25  \n",
    "white space, decimal comma": "1,5 2,5\n3,5 4,5\n5 6,25\n",
    "no header": "1.5,2.5\n3.5,4.5\n5,6.25\n",
    "quoted numbers": '"x","y"\n"1.5","2.5"\n"3.5","4.5"\n"5","6.25"\n',
    "CRLF": "x,y\r\n1.5,2.5\r\n3.5,4.5\r\n5,6.25\r\n",
    "blank lines": "x,y\n\n1.5,2.5\n\n3.5,4.5\n5,6.25\n\n",
    "spaces after commas": "x, y\n1.5, 2.5\n3.5, 4.5\n5, 6.25\n",
    "scientific notation": "x,y\n1.5e0,25E-1\n0.35e1,4.5\n5,6.25\n",
    "bar": "x|y\n1.5|2.5\n3.5|4.5\n5|6.25\n",
    "comment lines first": "# exported 2026-11-26\n# units: cm\nx,y\n1.5,2.5\n3.5,4.5\n5,6.25\n",
}


@pytest.mark.parametrize("form", FORMS)
def test_csv_forms(tmp_path, form):
    dataset = load_csv(write(tmp_path, FORMS[form]))
    np.testing.assert_array_equal(dataset.points, EXPECTED)
    assert dataset.dropped_rows == 0
    assert dataset.columns in (("x", "y"), ("x0", "x1"))


def test_header_names_and_headerless_names(tmp_path):
    assert load_csv(write(tmp_path, FORMS["comma with header"])).columns == ("x", "y")
    assert load_csv(write(tmp_path, FORMS["no header"])).columns == ("x0", "x1")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
def test_encodings(tmp_path, encoding):
    text = "température;débit;x\n1,5;2,5;a\n3,5;4,5;é\n5;6,25;ü\n"
    dataset = load_csv(write(tmp_path, text.encode(encoding)))
    assert dataset.columns == ("température", "débit")
    np.testing.assert_array_equal(dataset.points, EXPECTED)


def test_text_columns_are_skipped_or_chosen(tmp_path):
    path = write(tmp_path, "name,x,city,y\nann,1.5,Oslo,2.5\nbob,3.5,Rome,4.5\ncy,5,Kyiv,6.25\n")
    dataset = load_csv(path)
    assert dataset.columns == ("x", "y")
    np.testing.assert_array_equal(dataset.points, EXPECTED)
    chosen = load_csv(path, ["y", "x"])
    np.testing.assert_array_equal(chosen.points, np.array(EXPECTED)[:, ::-1])
    by_position = load_csv(path, [1, "3"])
    assert by_position.columns == ("x", "y")
    with_labels = load_csv(path, ["x", "y"], labels="city")
    np.testing.assert_array_equal(with_labels.labels, [0, 1, 2])
    with pytest.raises(DataError, match=r"data.csv: column 'name' holds text \(e.g. 'ann'\), not numbers"):
        load_csv(path, ["name", "x"])
    with pytest.raises(DataError, match=r"data.csv: no column named 'z'; the columns are: name, x, city, y"):
        load_csv(path, ["x", "z"])
    with pytest.raises(DataError, match=r"there is no column 7; columns are numbered 0 to 3"):
        load_csv(path, [1, 7])
    with pytest.raises(DataError, match=r"column 'x' is chosen twice"):
        load_csv(path, ["x", "x"])


def test_missing_and_non_finite_rows_are_dropped_and_counted(tmp_path):
    path = write(
        tmp_path,
        "x,y\n1.5,2.5\n,7\n3.5,4.5\nNA,1\ninf,2\n8,abc\n5,6.25\n-inf,3\nnan,nan\n",
    )
    dataset = load_csv(path)
    np.testing.assert_array_equal(dataset.points, EXPECTED)
    assert dataset.dropped_rows == 6
    assert dataset.dropped_example == "line 3, column 'x': empty"
    assert dataset.dropped_message() == (
        f"{path}: dropped 6 rows with missing, non-numeric or infinite values (first: line 3, column 'x': empty)"
    )


def test_dropped_row_example_names_the_bad_text(tmp_path):
    path = write(tmp_path, "x;y\n1,5;2,5\n3,5;4,5\n\n5;6,25\n7;oops\n")
    dataset = load_csv(path)
    assert dataset.dropped_rows == 1
    assert dataset.dropped_example == "line 6, column 'y': 'oops'"


def test_line_numbers_count_comment_lines(tmp_path):
    path = write(tmp_path, "# made by a logger\nx,y\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"line 4 has 3 fields but the header has 2"):
        load_csv(path)
    dataset = load_csv(write(tmp_path, "# note\n\nx,y\n1,2\nbad,3\n4,5\n"))
    assert dataset.dropped_example == "line 5, column 'x': 'bad'"


SEPARATORS = {",": ".", ";": ",", "\t": ".", " ": ",", "|": "."}


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(2, 4)),
                  elements=st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 6))),
    separator=st.sampled_from(list(SEPARATORS)),
    decimal_comma=st.booleans(),
    header=st.booleans(),
    quoted=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
def test_any_common_dialect_reads_back_the_same_numbers(tmp_path_factory, values, separator, decimal_comma,
                                                        header, quoted, newline, encoding):
    """Whatever the separator, decimal mark, header, quoting, line ends and encoding, the numbers survive."""
    decimal = "," if decimal_comma and separator != "," else "."
    quote = '"' if quoted and separator != " " else ""

    def cell(v):
        return quote + repr(float(v)).replace(".", decimal) + quote

    rows = [separator.join(cell(v) for v in row) for row in values]
    if header:
        rows.insert(0, separator.join(f"{quote}c{j}é{quote}" for j in range(values.shape[1])))
    path = tmp_path_factory.mktemp("dialect") / "data.csv"
    path.write_bytes((newline.join(rows) + newline).encode(encoding))
    dataset = load_csv(path)
    np.testing.assert_array_equal(dataset.points, values)
    assert dataset.columns == (tuple(f"c{j}é" for j in range(values.shape[1])) if header
                               else tuple(f"x{j}" for j in range(values.shape[1])))


def test_first_row_of_numbers_is_data(tmp_path):
    dataset = load_csv(write(tmp_path, "10,20\n1.5,2.5\n3.5,4.5\n"))
    assert dataset.n == 3 and dataset.columns == ("x0", "x1")
    np.testing.assert_array_equal(dataset.points[0], [10, 20])


def test_semicolon_file_is_not_read_as_commas(tmp_path):
    # read naively with commas, "x;y / 1,5;2,5" gives one wrong column and no error
    dataset = load_csv(write(tmp_path, "x;y\n1,5;2,5\n3,5;4,5\n"))
    np.testing.assert_array_equal(dataset.points, [[1.5, 2.5], [3.5, 4.5]])


def test_large_file_is_read_by_the_c_parser(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 3))
    path = tmp_path / "big.csv"
    np.savetxt(path, X, delimiter=";", header="a;b;c", comments="", fmt="%.17g")
    dataset = load_csv(path, ["a", "c"])
    np.testing.assert_array_equal(dataset.points, X[:, [0, 2]])


ERRORS = {
    "empty": (b"", r"data.csv: the file is empty"),
    "only blank lines": (b"\n\n  \n", r"data.csv: the file is empty"),
    "header only": (b"x,y\n", r"data.csv: the file has a header but no data rows"),
    "no numeric columns": (b"a,b\nx,y\nz,w\n", r"data.csv: no column holds numbers \(columns: a, b\)"),
    "one numeric column": (b"name,x\nann,1\nbob,2\n", r"data.csv: only one column holds numbers \('x'\); emviz needs two"),
    "wrong number of fields": (
        b"x,y\n1,2\n3,4\n5,6,7\n8,9\n",
        r"data.csv: line 4 has 3 fields but the header has 2 \(separator: comma\)",
    ),
    "binary": (bytes(range(256)) * 4, r"data.csv: looks like a binary file, not CSV text"),
    "xlsx": (b"PK\x03\x04" + b"\x00" * 100, r"data.csv: is a ZIP archive \(an Excel .xlsx file\?\)"),
    "nothing complete": (b"x,y\n1,\n,2\n3,\n", r"no row has a number in every one of the columns x, y"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_csv_errors_name_the_file_and_the_problem(tmp_path, case):
    content, message = ERRORS[case]
    path = write(tmp_path, content)
    with pytest.raises(DataError, match=message) as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: no such file"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"is a folder, not a CSV file"):
        load_csv(tmp_path)


def test_fewer_points_than_k(tmp_path):
    dataset = load_csv(write(tmp_path, "x,y\n1,2\n3,4\n,5\n"))
    with pytest.raises(DataError, match=r"data.csv: 2 points \(after dropping 1 incomplete rows\) are fewer than k=3"):
        dataset.require_points(3)


def test_table_lists_numeric_columns_for_a_column_picker(tmp_path):
    path = write(tmp_path, "id,a,b,c,label\n1,0.1,0.2,0.3,u\n2,0.4,0.5,0.6,v\n")
    table = read_csv_table(path)
    assert table.numeric_columns == ("id", "a", "b", "c")
    assert table.dataset(["b", "c"]).columns == ("b", "c")


# ----------------------------------------------------------------------------- presets and generator


def test_old_faithful_is_shipped_and_complete():
    dataset = PRESETS["old-faithful"]()
    assert dataset.n == 272 and dataset.columns == ("eruptions", "waiting")
    assert dataset.points[:, 1].min() == 43 and dataset.points[:, 1].max() == 96


def test_article_preset_uses_the_articles_results_table():
    table = json.loads((ASSETS / "article_results.json").read_text())
    dataset = PRESETS["article"]()
    np.testing.assert_allclose(dataset.mixture.means, table["means"])
    np.testing.assert_allclose(dataset.mixture.covariances, table["covariances"])
    assert dataset.n == 600 and set(np.bincount(dataset.labels)) <= set(range(170, 231))
    for i, mean in enumerate(table["means"]):
        np.testing.assert_allclose(dataset.points[dataset.labels == i].mean(axis=0), mean, atol=0.3)


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_reproducible(name):
    a, b = PRESETS[name](seed=1), PRESETS[name](seed=1)
    np.testing.assert_array_equal(a.points, b.points)
    assert a.d == 2 and np.all(np.isfinite(a.points))
    assert PRESETS[name].description


def test_unequal_weights_preset_has_unequal_weights():
    dataset = PRESETS["unequal-weights"](n=4000)
    counts = np.bincount(dataset.labels) / 4000
    np.testing.assert_allclose(counts, [0.80, 0.15, 0.05], atol=0.02)


def test_generate_controls_separation_and_is_reproducible():
    a = generate(300, 4, separation=5.0, seed=2)
    assert a.n == 300 and a.d == 2 and a.mixture.k == 4
    np.testing.assert_array_equal(a.points, generate(300, 4, separation=5.0, seed=2).points)
    gaps = np.linalg.norm(a.mixture.means[:, None] - a.mixture.means[None], axis=-1) + np.eye(4) * 99
    assert gaps.min() >= 5.0
    close = generate(300, 4, separation=0.5, seed=2).mixture.means
    assert np.ptp(close, axis=0).max() < np.ptp(a.mixture.means, axis=0).max()
    assert generate(50, 2, d=3).d == 3


def test_datasets_are_immutable():
    dataset = generate(10, 2)
    with pytest.raises(ValueError):
        dataset.points[0, 0] = 1.0


def test_load_accepts_presets_and_files(tmp_path):
    assert load("cross").name == "cross"
    assert load(write(tmp_path, FORMS["tab"])).n == 3
    with pytest.raises(DataError, match=r"banana: no such file or preset; presets are: article, old-faithful"):
        load("banana")
    with pytest.raises(DataError, match=r"--columns applies to CSV files only"):
        load("article", ["x", "y"])
    generated = load("generate", n=300, seed=4, true_k=5, separation=2.0)
    assert generated.n == 300 and generated.mixture.k == 5
    np.testing.assert_array_equal(generated.points, generate(300, 5, separation=2.0, seed=4).points)


def test_every_dataset_says_where_it_came_from(tmp_path):
    path = write(tmp_path, FORMS["comma with header"])
    from_file = load(str(path))
    assert (from_file.origin, from_file.name, from_file.preset) == ("csv", "data.csv", None)
    article = load("article")
    assert (article.origin, article.name, article.preset) == ("preset", "article", "article")
    assert load("old-faithful").preset == "old-faithful"
    drawn = load("generate", n=50, true_k=2)
    assert (drawn.origin, drawn.preset) == ("generated", None)
    assert Dataset(np.zeros((3, 2)), ("x", "y"), "by hand", "drawn", origin="drawn").origin == "drawn"
    with pytest.raises(ValueError, match="origin must be one of preset, csv, generated, drawn"):
        Dataset(np.zeros((3, 2)), ("x", "y"), "x", origin="clipboard")


def test_every_name_the_flat_module_had_is_still_importable():
    import emviz.data as data

    for name in ("Dataset", "DataError", "load_csv", "generate", "PRESETS", "CsvTable", "Preset",
                 "read_csv_table", "load", "GENERATE"):
        assert hasattr(data, name), name
