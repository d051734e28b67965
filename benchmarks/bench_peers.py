"""Peer benchmark: the two-node link in this project, SeQUeNCe and SimQN, interleaved.

What it measures
----------------
The task of ``bench_two_node_link.py`` in every simulator: two memory nodes, each joined by
10 km of 0.2 dB/km fibre to a middle BSM station; 10 memory slots per node; detector efficiency
0.9; T2 = 1 s; Barrett-Kok (double-click) heralding with per-attempt success
``p = eta_A eta_B / 2 = 0.1612``, ``eta = 10**(-0.2) * 0.9`` (Barrett & Kok, Phys. Rev. A 71,
060310(R) (2005)); 1 s of network time of continuous generation (each delivered pair read and
its slots reused). The peer side runs in the peer's own virtual environment
(``benchmarks/peers/README.md`` gives the install commands; nothing here is installed in the
project's environment, and the peers are not run in CI):

=================================  ===========================================  ==================
configuration                      peer side (script in ``benchmarks/peers``)   target
=================================  ===========================================  ==================
detailed vs SeQUeNCe ket BK        ``sequence_two_node.py --formalism ket``     >= 100x
sampled (block) vs SeQUeNCe BDS    ``sequence_two_node.py --formalism bds``     >= 300x
sampled (block) vs SimQN Werner    ``qns_two_node.py --model werner``           >= 20x
sampled (rounds) vs SeQUeNCe BDS   ``sequence_two_node.py --formalism bds``     - (for reference)
sampled (rounds) vs SimQN Werner   ``qns_two_node.py --model werner``           - (for reference)
detailed vs SimQN DM               ``qns_two_node.py --model dm``               -
=================================  ===========================================  ==================

The project side is ``bench_two_node_link.py --mode M --api A --json`` (``M`` = detailed or
sampled; ``A`` = ``rounds``, one ``link_round`` at a time with each pair waited for, read and
freed, or ``block``, one ``HubNetwork.link_block`` whose pairs are used at delivery: the same
rounds and, in the sampled mode, the same pairs, played in one step).
Each configuration runs ``--repeats`` (default 3) interleaved pairs peer, project, peer,
project, ... so that machine drift hits both sides alike; each side's wall time is its own
simulation loop only (building the network and importing are excluded on both sides).

Printed: per run, pairs per wall second of each side and their ratio project / peer; per
configuration the median ratio; a physics check per simulator (pooled over its runs): the
measured per-attempt success ``p_hat`` against ``p = 0.1612`` as ``z = (p_hat - p) / SE`` with
the binomial ``SE = sqrt(p (1 - p) / attempts)``, and the mean fidelity of the delivered
states with Phi+, pairs per network second and events per pair; then one PASS/FAIL line per
speed target.

Exit status: 0 when every peer is skipped (no interpreter given or the package is missing: a
``SKIP`` line says which and how to install it, so ``make bench`` passes on a machine without
peers), and 0 when the targets fail (the harness reports them, it does not enforce them); 1 when
a run crashes or a simulator's ``p_hat`` is more than 5 standard errors off its closed form.

Run: ``.venv/bin/python benchmarks/bench_peers.py --sequence-python
/tmp/peers/sequence-venv/bin/python --qns-python /tmp/peers/qns-venv/bin/python`` (or set
``MODENHUB_SEQUENCE_PYTHON`` / ``MODENHUB_QNS_PYTHON``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
ETA = 10.0 ** (-0.2 * 10.0 / 10.0) * 0.9
P_CLOSED_FORM = ETA * ETA / 2.0
Z_MAX = 5.0
SEED = 20240611


@dataclass(frozen=True)
class Peer:
    """A peer simulator: its name, the module its interpreter must import, the install hint."""

    name: str
    label: str
    module: str
    option: str
    env_var: str


SEQUENCE = Peer("sequence", "SeQUeNCe", "sequence", "--sequence-python", "MODENHUB_SEQUENCE_PYTHON")
QNS = Peer("qns", "SimQN", "qns", "--qns-python", "MODENHUB_QNS_PYTHON")


@dataclass(frozen=True)
class Config:
    """One comparison: the project's link mode against one peer model, with its target."""

    key: str
    title: str
    mode: str
    peer: Peer
    script: str
    peer_args: tuple[str, ...]
    target: float | None
    #: the project's consumer API (``bench_two_node_link.py --api``): one ``link_round`` at a
    #: time, or one ``link_block`` (every pair used at delivery, as the peers' consumers do)
    api: str


CONFIGS = (
    Config("seq-ket", "detailed vs SeQUeNCe ket Barrett-Kok", "detailed", SEQUENCE,
           "sequence_two_node.py", ("--formalism", "ket"), 100.0, "rounds"),
    Config("seq-bds", "sampled (link block) vs SeQUeNCe Bell-diagonal", "sampled", SEQUENCE,
           "sequence_two_node.py", ("--formalism", "bds"), 300.0, "block"),
    Config("qns-werner", "sampled (link block) vs SimQN Werner objects", "sampled", QNS,
           "qns_two_node.py", ("--model", "werner"), 20.0, "block"),
    Config("seq-bds-rounds", "sampled (one round at a time) vs SeQUeNCe Bell-diagonal", "sampled",
           SEQUENCE, "sequence_two_node.py", ("--formalism", "bds"), None, "rounds"),
    Config("qns-werner-rounds", "sampled (one round at a time) vs SimQN Werner objects", "sampled",
           QNS, "qns_two_node.py", ("--model", "werner"), None, "rounds"),
    Config("qns-dm", "detailed vs SimQN density matrices", "detailed", QNS,
           "qns_two_node.py", ("--model", "dm"), None, "rounds"),
)


@dataclass
class Side:
    """What one simulator (one model) delivered over its runs."""

    label: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def rate(self, i: int) -> float:
        """Pairs per wall second of run ``i``."""
        run = self.runs[i]
        return run["pairs"] / run["wall_s"]


def run_json(cmd: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` (environment ``env``, default inherited) and return its last JSON line.

    Raises
    ------
    RuntimeError
        If the command prints no JSON line (its exit status and stderr tail are quoted).
    """
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode} without a JSON line: "
                           f"{proc.stderr.strip()[-800:]}")
    result = json.loads(lines[-1])
    result["returncode"] = proc.returncode
    return result


def find_interpreter(peer: Peer, given: str | None) -> tuple[str | None, str]:
    """The peer's interpreter if it exists and imports the peer package, else a skip reason."""
    path = given or os.environ.get(peer.env_var)
    if not path:
        return None, (f"no interpreter given ({peer.option} PATH or {peer.env_var}); install "
                      f"as in benchmarks/peers/README.md")
    if not Path(path).exists():
        return None, f"interpreter {path} does not exist (benchmarks/peers/README.md)"
    probe = subprocess.run([path, "-c", f"import {peer.module}"], capture_output=True,
                           text=True, check=False)
    if probe.returncode != 0:
        return None, (f"{path} cannot import {peer.module!r}: "
                      f"{probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else '?'}")
    return path, ""


def physics_line(label: str, runs: list[dict[str, Any]]) -> tuple[str, bool]:
    """One simulator's pooled per-attempt success and mean fidelity; returns (line, ok).

    Runs with the same seed are the same sample (the project's bench has one fixed seed), so
    repeated identical runs are counted once: pooling copies would shrink the SE falsely.
    """
    unique = {(r["pairs"], r.get("attempts"), r.get("seed"), r.get("mean_fidelity")): r
              for r in runs}
    runs = list(unique.values())
    pairs = sum(r["pairs"] for r in runs)
    attempts = sum(r.get("attempts") or 0 for r in runs)
    fids = [(r["mean_fidelity"], r["pairs"]) for r in runs if r.get("mean_fidelity") is not None]
    mean_f = sum(f * n for f, n in fids) / sum(n for _, n in fids) if fids else float("nan")
    per_net_s = pairs / sum(r.get("sim_s", r.get("sim_ns", 0) / 1e9) for r in runs)
    if attempts:
        p_hat = pairs / attempts
        se = math.sqrt(P_CLOSED_FORM * (1.0 - P_CLOSED_FORM) / attempts)
        z = (p_hat - P_CLOSED_FORM) / se
        ok = abs(z) < Z_MAX
        p_text = (f"p_hat {p_hat:.5f} ({pairs:,} / {attempts:,})  z = {z:+.2f}  "
                  f"{'ok' if ok else 'FAIL'}")
    else:
        ok = True
        p_text = f"attempts not reported ({pairs:,} pairs)"
    events = sum(r.get("events") or 0 for r in runs)
    return (f"  {label:<29} {p_text}  mean F {mean_f:.6f}  "
            f"pairs per network s {per_net_s:,.0f}  events per pair "
            f"{events / pairs if pairs else float('nan'):.1f}"), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(SEQUENCE.option, dest="sequence_python", metavar="PATH",
                        help=f"SeQUeNCe's interpreter (default ${SEQUENCE.env_var})")
    parser.add_argument(QNS.option, dest="qns_python", metavar="PATH",
                        help=f"SimQN's interpreter (default ${QNS.env_var})")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved peer/project pairs per configuration (>= 1, default 3)")
    parser.add_argument("--project-root", type=Path, default=HERE.parent, metavar="DIR",
                        help="project checkout whose benchmarks/bench_two_node_link.py (and "
                             "packages, put first on PYTHONPATH) is the project side; default "
                             "this checkout; e.g. a `git archive` snapshot of one commit")
    parser.add_argument("--only", action="append", choices=[c.key for c in CONFIGS],
                        help="run only these configurations (repeatable; default all)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    project_root = args.project_root.resolve()
    project_bench = project_root / "benchmarks" / "bench_two_node_link.py"
    if not project_bench.is_file():
        parser.error(f"--project-root {project_root} has no benchmarks/bench_two_node_link.py")
    project_env = dict(os.environ)
    project_env["PYTHONPATH"] = os.pathsep.join(
        [str(project_root), *filter(None, [os.environ.get("PYTHONPATH")])])

    interpreters: dict[str, str] = {}
    for peer, given in ((SEQUENCE, args.sequence_python), (QNS, args.qns_python)):
        path, reason = find_interpreter(peer, given)
        if path is None:
            print(f"SKIP {peer.label}: {reason}")
        else:
            interpreters[peer.name] = path
    configs = [c for c in CONFIGS if (not args.only or c.key in args.only)
               and c.peer.name in interpreters]
    if not configs:
        print("no peer installed: nothing to compare (exit 0)")
        return 0

    print(f"two-node link, 1 s of network time; closed form p = eta_A eta_B / 2 = "
          f"{P_CLOSED_FORM:.5f} (eta = {ETA:.5f}); {args.repeats} interleaved pairs per "
          f"configuration")
    for peer_name, path in interpreters.items():
        version = subprocess.run([path, "-c", f"from importlib.metadata import version; "
                                  f"print(version({peer_name!r}))"],
                                 capture_output=True, text=True, check=False).stdout.strip()
        print(f"  {peer_name} {version} via {path}")
    print(f"  project side: {project_bench}")
    failures: list[str] = []
    medians: dict[str, float] = {}
    sides: dict[str, Side] = {}
    for config in configs:
        peer_side = sides.setdefault(f"{config.peer.label} {config.peer_args[-1]}",
                                     Side(f"{config.peer.label} {config.peer_args[-1]}"))
        project_label = f"modenhub-net {config.mode} {config.api}"
        project_side = sides.setdefault(project_label, Side(project_label))
        print(f"\n{config.title}")
        print(f"  {'run':>3}  {'peer pairs':>10} {'peer wall s':>11} {'peer pairs/s':>12}   "
              f"{'ours pairs':>10} {'ours wall s':>11} {'ours pairs/s':>12}   {'ratio':>7}")
        ratios = []
        for i in range(args.repeats):
            try:
                peer_run = run_json([interpreters[config.peer.name], str(PEERS / config.script),
                                     *config.peer_args, "--seed", str(SEED + i)])
                project_run = run_json([sys.executable, str(project_bench), "--mode",
                                        config.mode, "--api", config.api, "--json"],
                                       env=project_env)
            except RuntimeError as exc:
                print(f"  run {i + 1} failed: {exc}")
                failures.append(f"{config.key}: {exc}")
                break
            if project_run["returncode"] != 0 or project_run.get("failures"):
                failures.append(f"{config.key}: bench_two_node_link checks "
                                f"{project_run.get('failures')}")
            peer_rate = peer_run["pairs"] / peer_run["wall_s"]
            project_rate = project_run["pairs"] / project_run["wall_s"]
            ratios.append(project_rate / peer_rate)
            peer_side.runs.append(peer_run)
            project_side.runs.append(project_run)
            print(f"  {i + 1:>3}  {peer_run['pairs']:>10,} {peer_run['wall_s']:>11.2f} "
                  f"{peer_rate:>12,.0f}   {project_run['pairs']:>10,} "
                  f"{project_run['wall_s']:>11.2f} {project_rate:>12,.0f}   "
                  f"{ratios[-1]:>6.1f}x")
        if ratios:
            medians[config.key] = statistics.median(ratios)
            print(f"  median ratio project / peer: {medians[config.key]:.1f}x "
                  f"(runs {', '.join(f'{r:.1f}' for r in ratios)})")

    print(f"\nphysics check (pooled over each simulator's runs; p = {P_CLOSED_FORM:.5f}, "
          f"|z| < {Z_MAX:g}):")
    for side in sides.values():
        if side.runs:
            line, ok = physics_line(side.label, side.runs)
            print(line)
            if not ok:
                failures.append(f"{side.label}: per-attempt success off its closed form")
    print("  (fidelity models differ: SeQUeNCe's ket memories do not decohere while stored; "
          "SimQN's Werner storage model depolarises; the others dephase with T2 = 1 s)")

    print("\ntargets:")
    for config in configs:
        if config.target is None or config.key not in medians:
            continue
        verdict = "PASS" if medians[config.key] >= config.target else "FAIL"
        print(f"  {verdict}: {config.title}: median {medians[config.key]:.1f}x, "
              f"target >= {config.target:g}x")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
