"""The README's Python examples run as written."""

import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()


def test_readme_teleportation_example_matches_closed_form(capsys):
    exec(compile(BLOCKS[0], "README.md[0]", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    t_ns, value = re.search(r"t = (\d+) ns, fidelity ([0-9.]+)", printed).groups()
    # Teleporting |psi> = (0.6, 0.8i) through a Werner pair (F = 0.95) shrinks its Bloch vector by
    # w = (4F-1)/3; dephasing Bob's half for t (T2 = 1 s) shrinks x, y by c = exp(-t/T2).
    w, c = (4 * 0.95 - 1) / 3, math.exp(-float(t_ns) / 1e9)
    z = 0.6**2 - 0.8**2
    expected = (1 + w * (z**2 + c * (1 - z**2))) / 2
    assert float(t_ns) == 10.0 / 200_000 * 1e9  # 10 km at 200,000 km/s
    assert float(value) == pytest.approx(expected, abs=5e-5)  # printed to 4 decimals
    assert f"fidelity {value}" in BLOCKS[0]  # the README states what the code prints


def test_readme_physical_hub_example_states_what_it_prints(capsys):
    """The physical-hub example's printed lines are the ones the README shows under it."""
    _check_printed_lines("run_policy(", 3, capsys)


def _check_printed_lines(marker: str, n_lines: int, capsys) -> list[str]:
    """Run the README block containing ``marker``; its ``n_lines`` printed lines must appear in
    the block as ``# line`` comments. Returns them."""
    (block,) = [b for b in BLOCKS if marker in b]
    exec(compile(block, f"README.md[{marker}]", "exec"), {"__name__": "__readme__"})
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(printed) == n_lines
    for line in printed:
        assert f"# {line}" in block
    return printed


def test_readme_link_block_example_states_what_it_prints(capsys):
    """The link-block example prints the lines the README shows, and they are the closed forms:
    p within 5 standard errors of eta_A eta_B / 2, F = (1 + V exp(-2 t / T2)) / 2."""
    printed = _check_printed_lines("link_block(", 2, capsys)
    pairs, rounds, k, p_hat, p = re.search(
        r"(\d+) pairs in (\d+) rounds of (\d+): p = ([0-9.]+) \(closed form ([0-9.]+)\)",
        printed[0]).groups()
    attempts = int(rounds) * int(k)
    assert abs(int(pairs) / attempts - float(p)) < 5 * math.sqrt(float(p) * (1 - float(p)) / attempts)
    fidelity, storage_us = map(float, re.search(r"at use ([0-9.]+) after ([0-9.]+) us", printed[1]).groups())
    assert fidelity == pytest.approx((1 + 0.95 * math.exp(-2 * storage_us * 1e3 / 1e6)) / 2, abs=5e-4)
