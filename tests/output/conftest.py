"""Helpers of the output-safety and fault tests: a tiny scenario and a snapshot of a folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

TINY = """\
kind = "aggregate"
name = "tiny"
seed = 1
[study]
n_qpus = [2, 4]
trials = 20
strategies = ["naive"]
write_requests = false
"""


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (links not followed): its type and, for files, its bytes."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            info = os.lstat(path)
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[key] = "dir"
            else:
                found[key] = path.read_bytes()
    return found


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding ``a.toml`` (tiny aggregate scenario), ``notes.txt`` and
    ``mydocs/thesis.tex``; the current folder during the test."""
    (tmp_path / "a.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "thesis.tex").write_text("\\documentclass{article}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path
