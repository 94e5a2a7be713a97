"""The wheel carries the demo data, and an installed copy finds it without the checkout."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_installed_wheel_finds_its_demo_data(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = dist.glob("emviz-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "emviz/assets/old_faithful.csv" in names and "emviz/assets/article_results.json" in names
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "emviz = emviz.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=600,
    )
    probe = (
        "import emviz, pathlib; from emviz.data import PRESETS;"
        f"assert pathlib.Path(emviz.__file__).is_relative_to({str(site)!r}), emviz.__file__;"
        "print(PRESETS['old-faithful']().n, PRESETS['article']().n)"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["272", "600"]
