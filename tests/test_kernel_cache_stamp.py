"""The record that numba's cache holds the kernels (emviz.kernel._cache_known_good).

A warm start loads the kernels in its own process at once only when a build recorded,
for this source, numba, Python, processor and numba settings, the cache files it left,
and every one of them is still there, unchanged; in any doubt the child checks the cache
first. No compiling here: the cache files are stand-ins.
"""

import json
import os

import pytest

from emviz import kernel

pytest.importorskip("numba")


@pytest.fixture
def stamp(tmp_path, monkeypatch):
    """A stamp at a temporary path recording two stand-in cache files; returns their paths."""
    monkeypatch.setattr(kernel, "_stamp_path", lambda: str(tmp_path / "stamp.json"))
    files = [tmp_path / "kernel._sum-1.py311.nbi", tmp_path / "kernel._sum-1.py311.1.nbc"]
    for f in files:
        f.write_bytes(b"cached")
    record = {"key": kernel._cache_key(), "files": kernel._cache_files(str(tmp_path))}
    (tmp_path / "stamp.json").write_text(json.dumps(record))
    return files


def test_a_recorded_untouched_cache_is_known_good(stamp):
    assert kernel._cache_known_good()


def test_no_stamp_is_not_known_good(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel, "_stamp_path", lambda: str(tmp_path / "absent.json"))
    assert not kernel._cache_known_good()


def test_a_cache_file_rewritten_since_is_not_known_good(stamp):
    before = os.stat(stamp[0])
    os.utime(stamp[0], ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert not kernel._cache_known_good()


def test_a_cache_file_gone_is_not_known_good(stamp):
    stamp[1].unlink()
    assert not kernel._cache_known_good()


def test_other_numba_settings_are_not_known_good(stamp, monkeypatch):
    monkeypatch.setenv("NUMBA_OPT", "1")  # numba's index would not hold code built this way
    assert not kernel._cache_known_good()


def test_another_source_is_not_known_good(stamp, monkeypatch):
    key = kernel._cache_key()
    key["source"][1] = "0" * 40
    monkeypatch.setattr(kernel, "_cache_key", lambda: key)
    assert not kernel._cache_known_good()


def test_only_this_modules_cache_files_are_recorded(tmp_path):
    for name in ("kernel._sum-1.py311.nbi", "kernel._sum-1.py311.1.nbc", "other._f-3.py311.nbi", "kernel.cpython-311.pyc"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(os.path.basename(p) for p in kernel._cache_files(str(tmp_path))) == [
        "kernel._sum-1.py311.1.nbc", "kernel._sum-1.py311.nbi"]
