"""``modenhub run`` / ``sweep`` on a file with a misspelled key: one error line naming the file,
the key and the closest valid key; exit code 2; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import run_cli as _run

TINY = """\
kind = "aggregate"
name = "tiny"
seed = 1
[model]
p0 = 0.35
{beta_key} = 0.35
[study]
n_qpus = [2, 4]
trials = 20
strategies = ["naive"]
write_requests = false
"""


@pytest.mark.parametrize(("key", "suggestion"), [("bta", "beta"), ("betaa", "beta")])
def test_run_suggests_the_closest_key(tmp_path: Path, monkeypatch, capsys, key, suggestion) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.toml").write_text(TINY.format(beta_key=key), encoding="utf-8")
    status, out, err = _run(["run", "a.toml", "--out", "out"], capsys)
    assert status == 2 and out == ""
    lines = [line for line in err.strip().splitlines() if line.startswith("error")]
    assert lines, err
    assert "a.toml" in err and f"model.{key}" in err and f"did you mean '{suggestion}'?" in err
    assert not (tmp_path / "out").exists()


def test_sweep_base_file_with_a_misspelled_key(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.toml").write_text(TINY.format(beta_key="bta"), encoding="utf-8")
    (tmp_path / "s.toml").write_text('name = "s"\nbase_file = "a.toml"\n[grid]\n"model.p0" = [0.3, 0.4]\n',
                                     encoding="utf-8")
    status, out, err = _run(["sweep", "s.toml", "--out", "store", "--workers", "1"], capsys)
    assert status == 2 and out == ""
    assert "did you mean 'beta'?" in err and "a.toml" in err
    assert not (tmp_path / "store").exists()
