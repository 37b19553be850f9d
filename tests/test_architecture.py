"""The import rules of ARCHITECTURE.md hold, and a wrong import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for package in ("bff", "push", "webviews"):
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_code_keeps_every_import_rule(tmp_path):
    result = lint_imports(copy_of_the_code(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_domain_reaching_into_a_siblings_repository_breaks_the_rules(tmp_path):
    tree = copy_of_the_code(tmp_path)
    service = tree / "bff" / "levels" / "service.py"
    service.write_text(
        service.read_text() + "\nfrom bff.partners.repository import PartnerRepository\n"
    )
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "A domain reaches a sibling through its services" in result.stdout
    assert "bff.levels.service -> bff.partners.repository" in result.stdout


def test_the_kernel_importing_a_domain_breaks_the_rules(tmp_path):
    tree = copy_of_the_code(tmp_path)
    config = tree / "bff" / "kernel" / "config.py"
    config.write_text(config.read_text() + "\nimport bff.ledger.service\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "The kernel imports no domain" in result.stdout


def test_nothing_cites_documents_outside_the_repository():
    cited = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bff", "push", "webviews")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "CONTRACT.md" in line or "DESIGN.md" in line
    ]
    for name in ("schema.graphql", "README.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        cited += [name for word in ("CONTRACT.md", "DESIGN.md") if word in text]
    assert cited == []
