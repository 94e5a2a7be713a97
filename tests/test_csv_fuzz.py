"""CSV fuzzing: random bytes and mutated real files never raise anything but DataError.

Each case is a file of at most 64 kB read with a 64 kB cap, so every case is
bounded; an alarm turns a hang into a failure instead of a stuck suite.
"""

import random
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emviz.data import DataError, load_csv, read_csv_table

ASSETS = Path(__file__).resolve().parents[1] / "emviz" / "assets"
CAP = 64 * 1024
HANG_SECONDS = 30  # far beyond the milliseconds a case takes: only a hang trips it

SEEDS = [
    (ASSETS / "old_faithful.csv").read_bytes(),
    b"x,y\n1.5,2.5\n3.5,4.5\n5,6.25\n",
    "température;débit;x\n1,5;2,5;a\n3,5;4,5;é\n5;6,25;ü\n".encode("latin-1"),
    "x\ty\n1,5\t2,5\n3,5\t4,5\n".encode("utf-16"),
    b'"x","y"\n"1.5","2.5"\n"3.5","4.5"\n',
    b"# comment\n# more\na b c\n1 2 3\n4 5 6\nNA 7 8\n",
    (ASSETS / "old_faithful.csv").read_bytes() * 6,  # past the 8 kB that _decode looks at for binary
]
TOKENS = [b",", b";", b"\t", b" ", b"\n", b"\r", b'"', b"\x00", b"NA", b"n/a", b"-", b"1e308", b"1e999",
          b"-inf", b"nan", b"\xff\xfe", b"PK\x03\x04", b"#", b"|", b"0,5", b"\xc3", b"x" * 300]


@contextmanager
def hang_guard():
    def hung(signum, frame):
        raise AssertionError(f"a CSV case took more than {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def read_everything(path):
    """Every public way of reading a file; only DataError may come out."""
    with hang_guard():
        for read in (
            lambda: load_csv(path, max_bytes=CAP),
            lambda: load_csv(path, [0, 1], max_bytes=CAP),
            lambda: read_csv_table(path, max_bytes=CAP).plane(),
        ):
            try:
                dataset = read()
            except DataError as exc:
                assert str(path) in str(exc) and len(str(exc)) < 2000, str(exc)[:300]
            else:
                assert np.isfinite(dataset.points).all() and dataset.n >= 1


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        action = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if action == 0 and data:  # flip a byte
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif action == 1:  # insert a token
            data[at:at] = rng.choice(TOKENS)
        elif action == 2:  # delete a run
            del data[at:at + rng.randint(1, 40)]
        elif action == 3:  # duplicate a run
            data[at:at] = data[at:at + rng.randint(1, 200)] * rng.randint(1, 5)
        else:  # cut the file
            del data[at:]
    return bytes(data[:CAP])


MUTATED = 300


@pytest.mark.parametrize("block", range(6))
def test_mutated_real_files_raise_only_data_errors(tmp_path, block):
    rng = random.Random(block)
    for case in range(MUTATED // 6):
        path = tmp_path / f"case{case}.csv"
        path.write_bytes(mutate(rng, SEEDS[(block + case) % len(SEEDS)]))
        read_everything(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=4096))
def test_random_bytes_raise_only_data_errors(tmp_path, content):
    path = tmp_path / "random.csv"
    path.write_bytes(content)
    read_everything(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(st.sampled_from(
    ["1", "2.5", "-3e2", "", "NA", "x", "1,5", "inf", '"q"', "1e400", " ", "#"]), max_size=6), max_size=30),
    separator=st.sampled_from([",", ";", "\t", " ", "|"]))
def test_random_tables_raise_only_data_errors(tmp_path, lines, separator):
    path = tmp_path / "table.csv"
    path.write_text("\n".join(separator.join(cells) for cells in lines), encoding="utf-8")
    read_everything(path)
