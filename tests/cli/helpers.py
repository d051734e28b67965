"""Running the command line in-process for tests."""

from __future__ import annotations

from modenhub_net.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``modenhub ARGV`` run in this process."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    captured = capsys.readouterr()
    return status, captured.out, captured.err
