"""Reading a CSV file piece by piece: progress as it goes, the same table and messages as in one go."""

import numpy as np
import pytest

from emviz.data import DataError, read_csv_table
from emviz.data.csvfile import CsvTable, ReadProgress, iter_csv_table


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


PANDAS_2 = int(__import__("pandas").__version__.split(".")[0]) < 3


def test_progress_counts_the_files_bytes_and_ends_with_the_table(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5_000, 2))
    path = tmp_path / "big.csv"
    np.savetxt(path, X, delimiter=",", header="a,b", comments="", fmt="%.17g")
    size = path.stat().st_size
    items = list(iter_csv_table(path, chunk_rows=100, chunk_bytes=10_000))
    *progress, table = items
    assert isinstance(table, CsvTable) and all(isinstance(p, ReadProgress) for p in progress)
    reading = [p for p in progress if p.phase == "reading"]
    parsing = [p for p in progress if p.phase == "parsing"]
    assert [p.done for p in reading] == sorted({p.done for p in reading}) and reading[-1].done == size
    assert len(reading) == -(-size // 10_000)
    # pandas 2 parses in one piece (in pieces it cuts over-long lines silently): no steps between
    assert len(parsing) == (2 if PANDAS_2 else 51)
    assert parsing[0].done == 0 and parsing[-1].done == parsing[-1].total == size
    assert all(a.done <= b.done for a, b in zip(parsing, parsing[1:]))
    assert [(p.phase, p.done, p.total) for p in progress[-2:]] == [("checking", 1, 2), ("checking", 2, 2)]
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] == 1.0
    np.testing.assert_array_equal(table.dataset().points, X)


def test_pieces_give_the_same_table_and_messages_as_one_go(tmp_path):
    # a blank line, a line of spaces, a comment, and text that first appears in a later piece
    rows = ["# logger v2", "x,y,name"] + [f"{i}.5,{i * 2},p{i}" for i in range(40)]
    rows[20] = ""
    rows[25] = "   "
    rows[33] = "7.5,oops,p31"
    path = write(tmp_path, "\n".join(rows) + "\n")
    whole = read_csv_table(path).dataset()
    *_, table = iter_csv_table(path, chunk_rows=3)
    pieces = table.dataset()
    np.testing.assert_array_equal(pieces.points, whole.points)
    assert pieces.dropped_rows == whole.dropped_rows == 1
    assert pieces.dropped_example == whole.dropped_example == "line 34, column 'y': 'oops'"
    assert table.numeric_columns == ("x", "y")


def test_a_bad_line_in_a_later_piece_is_named_by_its_line(tmp_path):
    rows = ["x,y"] + [f"{i},{i}" for i in range(30)]
    rows[17] = "1,2,3"
    path = write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"data.csv: line 18 has 3 fields but the header has 2"):
        list(iter_csv_table(path, chunk_rows=4))


def test_decimal_commas_padded_cells_and_latin1_in_pieces(tmp_path):
    rows = ["größe;gewicht"] + [f" {i},5 ;{i},25" for i in range(20)]
    rows[12] = "n/a;3,25"
    path = write(tmp_path, ("\n".join(rows) + "\n").encode("latin-1"))
    *_, table = iter_csv_table(path, chunk_rows=5)
    dataset = table.dataset()
    assert dataset.columns == ("größe", "gewicht") and dataset.n == 19 and dataset.dropped_rows == 1
    assert dataset.dropped_example == "line 13, column 'größe': 'n/a'"
    assert dataset.points[0].tolist() == [0.5, 0.25]


def test_a_column_of_mostly_text_is_text_even_when_its_first_piece_has_numbers(tmp_path):
    rows = ["x,y,code"] + [f"{i},{i},{i}" for i in range(5)] + [f"{i},{i},c{i}" for i in range(5, 40)]
    path = write(tmp_path, "\n".join(rows) + "\n")
    *_, table = iter_csv_table(path, chunk_rows=5)
    assert table.numeric_columns == ("x", "y")
