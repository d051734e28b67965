"""Every data file the packages read at run time is declared as package data.

A study renders ``REPORT.md`` from a template and the hardware presets are TOML files; both
must ship in the wheel, or a study run from an installed copy (outside the checkout) fails.
``[tool.setuptools.package-data]`` of ``pyproject.toml`` must cover every non-Python file of
the packages, and every runtime import of a third-party package must be a declared dependency.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("modenhub_net", "hardware_models", "protocols")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _data_files(package: str) -> list[Path]:
    root = ROOT / package
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".py", ".pyc"))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_data_file_is_package_data(package):
    globs = _pyproject()["tool"]["setuptools"].get("package-data", {}).get(package, [])
    missing = [str(p.relative_to(ROOT / package)) for p in _data_files(package)
               if not any(fnmatch.fnmatch(str(p.relative_to(ROOT / package)), g) for g in globs)]
    assert not missing, f"{package}: not declared as package data: {missing}"


def test_report_templates_are_shipped_and_listed():
    from modenhub_net.reporting.report import TEMPLATE_DIR, available_templates

    names = available_templates()
    assert "cache_study" in names and "aggregate" in names
    globs = _pyproject()["tool"]["setuptools"]["package-data"]["modenhub_net"]
    for name in names:
        rel = (TEMPLATE_DIR / f"{name}.md.j2").relative_to(ROOT / "modenhub_net")
        assert any(fnmatch.fnmatch(str(rel), g) for g in globs), rel


def test_jinja2_is_a_declared_dependency():
    """``modenhub_net.reporting.report`` imports jinja2 at run time."""
    deps = [d.split(">")[0].split("=")[0].split("[")[0].strip().lower()
            for d in _pyproject()["project"]["dependencies"]]
    assert "jinja2" in deps
    assert "import jinja2" in (ROOT / "modenhub_net/reporting/report.py").read_text(encoding="utf-8")
