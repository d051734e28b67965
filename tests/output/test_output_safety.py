"""``--out`` may only create a new folder or replace one this program wrote.

Each refused case: exit status 2, one line on stderr naming the path, and every file of the
working folder byte-identical afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modenhub_net.cli import main
from modenhub_net.errors import UserInputError
from modenhub_net.output import (
    MARKER_NAME,
    NOTE_NAME,
    atomic_output_dir,
    check_output_dir,
    clean_stale_staging,
    read_marker,
)

from .conftest import snapshot

LONG = "x" * 300

#: (case id, --out value, text the message must contain)
REFUSED = [
    ("existing-file", "notes.txt", "notes.txt"),
    ("foreign-folder", "mydocs", "mydocs"),
    ("scenario-file", "a.toml", "a.toml"),
    ("dot", ".", "'.'"),
    ("empty", "", "''"),
    ("dotdot", "..", "'..'"),
    ("trailing-dot", "mydocs/.", "mydocs/."),
    ("device", "/dev/null", "/dev/null"),
    ("through-a-file", "notes.txt/sub", "notes.txt/sub"),
    ("name-too-long", LONG, LONG[:40]),
    ("symlink", "link", "link"),
    ("symlink-to-ours", "link_ours", "link_ours"),
]


def _prepare(workdir: Path) -> None:
    (workdir / "link").symlink_to("mydocs")
    ours = workdir / "ours"
    ours.mkdir()
    (ours / MARKER_NAME).write_text(json.dumps({"program": "modenhub-net", "kind": "run"}))
    (workdir / "link_ours").symlink_to("ours")


def _run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exc:  # pragma: no cover - argparse; not expected here
        status = int(exc.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(("case", "out", "named"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_out_changes_nothing(workdir: Path, capsys, case: str, out: str,
                                     named: str) -> None:
    _prepare(workdir)
    before = snapshot(workdir)
    status, stdout, stderr = _run_in_process(["run", "a.toml", "--out", out, "--quiet"], capsys)
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert named in lines[0], lines[0]
    assert "Traceback" not in stderr and stdout == ""
    assert snapshot(workdir) == before
    assert os.path.exists("/dev/null") and not os.path.isdir("/dev/null")


def test_refused_out_in_a_subprocess(workdir: Path) -> None:
    before = snapshot(workdir)
    for out in ("notes.txt", "mydocs", "."):
        proc = subprocess.run(
            [sys.executable, "-m", "modenhub_net.cli", "run", "a.toml", "--out", out],
            capture_output=True, text=True, timeout=120, cwd=workdir,
        )
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and repr(out) in proc.stderr
        assert proc.stdout == ""
    assert snapshot(workdir) == before


def test_out_is_checked_before_the_computation(workdir: Path, capsys, monkeypatch) -> None:
    """A long study must not run only to fail at the end: the check comes first."""
    import modenhub_net.studies.aggregate_study as study

    def never(*args, **kwargs):
        raise AssertionError("the study ran although --out is refused")

    monkeypatch.setattr(study, "run_scenario", never)
    monkeypatch.setattr(study, "_study", never)
    status, _, stderr = _run_in_process(["run", "a.toml", "--out", "mydocs"], capsys)
    assert status == 2 and "mydocs" in stderr


def test_default_folder_of_someone_else_is_refused(workdir: Path, capsys) -> None:
    """The default results/<name> gets the same rule as --out."""
    mine = workdir / "results" / "tiny"
    mine.mkdir(parents=True)
    (mine / "plan.txt").write_text("mine\n")
    before = snapshot(workdir)
    status, _, stderr = _run_in_process(["run", "a.toml", "--quiet"], capsys)
    assert status == 2 and "results/tiny" in stderr
    assert snapshot(workdir) == before


def test_new_empty_and_own_folders_are_written(workdir: Path, capsys) -> None:
    (workdir / "empty").mkdir()
    for out in ("new/deeper", "empty", "new/deeper"):  # the last one replaces our own folder
        status, stdout, stderr = _run_in_process(["run", "a.toml", "--out", out, "--quiet"], capsys)
        assert status == 0, stderr
        assert stdout == ""
        marker = read_marker(workdir / out)
        assert marker is not None and marker["kind"] == "run"
        assert (workdir / out / "summary.csv").is_file()
    status, _, _ = _run_in_process(["run", "a.toml", "--quiet"], capsys)  # default folder
    assert status == 0 and read_marker(workdir / "results" / "tiny") is not None
    leftovers = [p.name for p in workdir.rglob(".*.tmp")]
    assert leftovers == []
    assert not list(workdir.rglob(NOTE_NAME))


def test_replacing_never_touches_lookalike_user_files(workdir: Path, capsys) -> None:
    """The previous folder moves to a fresh mkdtemp name, never to a fixed one like .res.old."""
    for name in (".res.old", ".res_prev.tmp", ".res_prev.user.tmp", ".res_new.user.tmp"):
        (workdir / name).write_text("user data\n")
    (workdir / ".res_prev.dir.tmp").mkdir()
    (workdir / ".res_prev.dir.tmp" / "keep.txt").write_text("keep\n")
    for _ in range(2):
        assert _run_in_process(["run", "a.toml", "--out", "res", "--quiet"], capsys)[0] == 0
    for name in (".res.old", ".res_prev.tmp", ".res_prev.user.tmp", ".res_new.user.tmp"):
        assert (workdir / name).read_text() == "user data\n"
    assert (workdir / ".res_prev.dir.tmp" / "keep.txt").read_text() == "keep\n"


def test_run_does_not_replace_a_sweep_store(workdir: Path, capsys) -> None:
    store = workdir / "store"
    store.mkdir()
    (store / MARKER_NAME).write_text(json.dumps({"program": "modenhub-net",
                                                 "kind": "sweep-store"}))
    before = snapshot(workdir)
    status, _, stderr = _run_in_process(["run", "a.toml", "--out", "store"], capsys)
    assert status == 2 and "sweep store" in stderr
    assert snapshot(workdir) == before


def test_out_folder_holding_the_scenario_is_refused(workdir: Path, capsys) -> None:
    ours = workdir / "ours"
    ours.mkdir()
    (ours / MARKER_NAME).write_text(json.dumps({"program": "modenhub-net", "kind": "run"}))
    (ours / "a.toml").write_text((workdir / "a.toml").read_text())
    before = snapshot(workdir)
    status, _, stderr = _run_in_process(["run", "ours/a.toml", "--out", "ours"], capsys)
    assert status == 2 and "scenario file" in stderr
    assert snapshot(workdir) == before


def test_marker_of_another_program_is_not_ours(workdir: Path) -> None:
    other = workdir / "other"
    other.mkdir()
    (other / MARKER_NAME).write_text(json.dumps({"program": "something-else"}))
    with pytest.raises(UserInputError, match="did not write"):
        check_output_dir(other)
    (other / MARKER_NAME).write_text("not json")
    with pytest.raises(UserInputError, match="did not write"):
        check_output_dir(other)


def test_destination_checked_again_at_rename_time(workdir: Path) -> None:
    """A user file that appears in the destination during the run is kept; nothing replaced."""
    target = workdir / "late"
    with pytest.raises(UserInputError, match="late"), atomic_output_dir(target) as staging:
        (staging / "result.csv").write_text("x\n")
        target.mkdir()
        (target / "user.txt").write_text("written meanwhile\n")
    assert sorted(p.name for p in target.iterdir()) == ["user.txt"]
    assert not [p for p in workdir.iterdir() if p.name.startswith(".late")]


def test_stale_staging_of_a_dead_writer_is_removed_only(workdir: Path) -> None:
    target = workdir / "res"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    import socket

    def leftover(name: str, pid: int) -> Path:
        folder = workdir / name
        folder.mkdir()
        (folder / NOTE_NAME).write_text(json.dumps(
            {"program": "modenhub-net", "pid": pid, "host": socket.gethostname()}))
        (folder / "x.csv").write_text("x\n")
        return folder

    stale = leftover(".res_new.abc123.tmp", dead_pid)
    live = leftover(".res_new.def456.tmp", os.getppid())  # a running process
    user = workdir / ".res_new.user.tmp"
    user.mkdir()
    (user / "mine.txt").write_text("mine\n")
    assert clean_stale_staging(target) == 1
    assert not stale.exists() and live.exists() and (user / "mine.txt").exists()


def test_killed_between_the_renames_restores_the_previous_folder(workdir: Path) -> None:
    """A _prev leftover of a dead writer while the destination is missing is put back."""
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    prev = workdir / ".res_prev.q1w2e3.tmp"
    prev.mkdir()
    (prev / MARKER_NAME).write_text(json.dumps({"program": "modenhub-net", "kind": "run"}))
    (prev / "summary.csv").write_text("old results\n")
    (prev / NOTE_NAME).write_text(json.dumps(
        {"program": "modenhub-net", "pid": int(dead.stdout), "host": socket.gethostname()}))
    assert clean_stale_staging(workdir / "res") == 1
    assert (workdir / "res" / "summary.csv").read_text() == "old results\n"
    assert not (workdir / "res" / NOTE_NAME).exists() and not prev.exists()


KILLED_WRITER = """
import sys, time
from modenhub_net.output import atomic_output_dir
with atomic_output_dir(sys.argv[1]) as staging:
    (staging / "half.csv").write_text("half")
    print("staging", flush=True)
    time.sleep(60)
"""


def test_sigkill_leaves_staging_that_the_next_run_cleans(workdir: Path, capsys) -> None:
    assert _run_in_process(["run", "a.toml", "--out", "results/tiny", "--quiet"], capsys)[0] == 0
    before = snapshot(workdir / "results" / "tiny")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, "results/tiny"],
                            stdout=subprocess.PIPE, text=True, cwd=workdir)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "staging"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stray = [p.name for p in (workdir / "results").iterdir() if p.name.startswith(".tiny_new.")]
    assert len(stray) == 1  # what a SIGKILL leaves behind
    assert snapshot(workdir / "results" / "tiny") == before  # earlier results intact
    assert _run_in_process(["run", "a.toml", "--quiet"], capsys)[0] == 0
    assert sorted(p.name for p in (workdir / "results").iterdir()) == ["tiny"]


def test_sigkill_of_modenhub_run_then_next_run_leaves_no_stray_folder(workdir: Path) -> None:
    """The real command killed at random moments (during the computation or the writing):
    afterwards a run completes and leaves exactly the result folder."""
    scenario = workdir / "a.toml"
    scenario.write_text(scenario.read_text().replace("trials = 20", "trials = 3000")
                        .replace('strategies = ["naive"]',
                                 'strategies = ["naive", "orchestrated"]')
                        .replace("n_qpus = [2, 4]", "n_qpus = { first = 2, last = 64, step = 1 }"))
    for delay_s in (0.5, 1.5, 2.5):
        proc = subprocess.Popen([sys.executable, "-m", "modenhub_net.cli", "run", "a.toml",
                                 "--quiet"], cwd=workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(delay_s)
        proc.kill()
        proc.communicate(timeout=30)
    done = subprocess.run([sys.executable, "-m", "modenhub_net.cli", "run", "a.toml", "--quiet"],
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (workdir / "results").iterdir()) == ["tiny"]


SWEEP = 'name = "tiny_sweep"\nbase_file = "a.toml"\n[grid]\n"model.beta" = [0.1, 0.4]\n'


@pytest.mark.parametrize("out", ["notes.txt", "mydocs", ".", "", "a.toml", "sweep.toml",
                                 "notes.txt/sub", "run_folder", "link"])
def test_sweep_store_gets_the_same_rule(workdir: Path, capsys, out: str) -> None:
    (workdir / "sweep.toml").write_text(SWEEP)
    (workdir / "link").symlink_to("mydocs")
    run_folder = workdir / "run_folder"
    run_folder.mkdir()
    (run_folder / MARKER_NAME).write_text(json.dumps({"program": "modenhub-net", "kind": "run"}))
    (run_folder / "summary.csv").write_text("x\n")
    before = snapshot(workdir)
    status, stdout, stderr = _run_in_process(
        ["sweep", "sweep.toml", "--out", out, "--workers", "1", "--quiet"], capsys)
    assert status == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and repr(out) in stderr
    assert snapshot(workdir) == before


def test_sweep_resumes_into_a_store_written_before_markers(workdir: Path, capsys) -> None:
    (workdir / "sweep.toml").write_text(SWEEP)
    args = ["sweep", "sweep.toml", "--out", "store", "--workers", "1", "--quiet"]
    assert _run_in_process(args, capsys)[0] == 0
    assert read_marker(workdir / "store")["kind"] == "sweep-store"
    (workdir / "store" / MARKER_NAME).unlink()  # as the stores shipped before markers
    status, stdout, _ = _run_in_process(args, capsys)
    assert status == 0 and "2 points: 2 already done, 0 to run" in stdout
    assert read_marker(workdir / "store") is not None
