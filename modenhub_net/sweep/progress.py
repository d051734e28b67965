"""Progress bar of a sweep: points done (including resumed ones), rate and time left."""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar on stderr; a no-op when disabled.

    Parameters
    ----------
    total : int
        Points in the sweep.
    done : int
        Points already finished before this run (shown as done; the rate and the time left
        count only points computed in this run).
    enabled : bool
        False for ``--quiet``.
    """

    def __init__(self, *, total: int, done: int, enabled: bool) -> None:
        self._bar = tqdm(
            total=total, initial=done, unit="pt", desc="sweep", disable=not enabled,
            file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
            bar_format="{desc}: {n_fmt}/{total_fmt} points |{bar}| {rate_fmt}, "
                       "{elapsed} elapsed, {remaining} left",
        )

    def advance(self) -> None:
        """One more point finished."""
        self._bar.update(1)

    def close(self) -> None:
        """Finish the bar's line."""
        self._bar.close()
