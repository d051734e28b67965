"""The parallel map: same results on every backend, input order, failures name the item,
interrupts stop the workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modenhub_net.errors import UserInputError
from modenhub_net.parallel import Outcome, TaskError, open_executor, parallel_map
from modenhub_net.sweep.testing import failing_task, seeded_task, sleepy_task

ITEMS = [(x / 4.0, seed) for x in range(3) for seed in (0, 1, 7)]


def test_serial_processes_and_dask_give_identical_results() -> None:
    serial = parallel_map(seeded_task, ITEMS)
    processes = parallel_map(seeded_task, ITEMS, scheduler="processes", workers=2)
    dask = parallel_map(seeded_task, ITEMS, scheduler="dask", workers=2)
    assert serial == processes == dask  # exact: the seed travels with the item
    assert [r[0] for r in serial] == [x for x, _ in ITEMS]
    assert len({r[1] for r in serial}) == 3  # three seeds, three different draws per x
    # the same seed gives the same draw whatever x, i.e. the stream depends on the seed alone
    assert serial[0][1] == serial[3][1] == serial[6][1]


@pytest.mark.parametrize("scheduler", ["serial", "processes"])
def test_results_come_back_in_input_order(scheduler: str) -> None:
    # the first items sleep longest, so a pool finishes them last
    items = [(i, 0.3 - 0.05 * i, None) for i in range(6)]
    assert parallel_map(sleepy_task, items, scheduler=scheduler, workers=2) == list(range(6))


def test_imap_unordered_streams_outcomes_and_failures() -> None:
    with open_executor("processes", workers=2) as executor:
        outcomes = list(executor.imap_unordered(failing_task, range(5)))
    assert sorted(o.index for o in outcomes) == list(range(5))
    by_index = {o.index: o for o in outcomes}
    assert not by_index[2].ok and by_index[2].error_text == "ValueError: boom"
    assert all(isinstance(o, Outcome) for o in outcomes)
    assert [by_index[i].value for i in (0, 1, 3, 4)] == [0, 1, 9, 16]


@pytest.mark.parametrize("scheduler", ["serial", "processes", "dask"])
def test_task_exception_names_the_item(scheduler: str) -> None:
    with pytest.raises(TaskError) as info:
        parallel_map(failing_task, [0, 1, 2, 3], scheduler=scheduler, workers=2)
    error = info.value
    assert (error.index, error.item) == (2, 2)
    assert isinstance(error.__cause__, ValueError) and isinstance(error.error, ValueError)
    assert str(error) == "task 2 (item 2) failed: ValueError: boom"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"scheduler": "threads"}, "scheduler = 'threads'"),
    ({"scheduler": 3}, "scheduler = 3"),
    ({"workers": 0}, "workers = 0"),
    ({"workers": True}, "workers = True"),
    ({"workers": 2.0}, "workers = 2.0"),
])
def test_bad_options_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(UserInputError, match="must be") as info:
        parallel_map(abs, [1], **kwargs)
    assert str(info.value).startswith(field)


def test_empty_input_and_unreachable_scheduler() -> None:
    assert parallel_map(abs, [], scheduler="processes") == []
    with pytest.raises(UserInputError, match="cannot connect to a Dask scheduler"):
        parallel_map(abs, [1], scheduler="tcp://127.0.0.1:9")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("group", [False, True], ids=["driver", "process-group"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_stops_the_workers(tmp_path: Path, signum: int, group: bool) -> None:
    """SIGTERM or SIGINT to the driver, or to its whole process group (Ctrl-C in a terminal,
    ``kill -TERM -PGID``): one KeyboardInterrupt in the driver, no worker traceback, no
    worker left."""
    script = textwrap.dedent(f"""
        from modenhub_net.parallel import parallel_map
        from modenhub_net.sweep.testing import sleepy_task
        try:
            parallel_map(sleepy_task, [(i, 60.0, {str(tmp_path)!r}) for i in range(4)],
                         scheduler="processes", workers=2)
        except KeyboardInterrupt as exc:
            print("stopped", type(exc).__name__, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(p.read_text()) for p in tmp_path.iterdir()]
    assert len(pids) == 2, "the workers did not start"
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    expected = "Terminated" if signum == signal.SIGTERM else "KeyboardInterrupt"
    assert out.strip() == f"stopped {expected}" and proc.returncode == 0
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
    assert len(list(tmp_path.iterdir())) == 2  # the queued tasks never started
