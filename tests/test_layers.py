"""The one-way house (.importlinter, docs/architecture.md "Layers"): the contracts hold for the code as it is,
and each of them fails the moment someone adds an import that breaks it (checked on a copy of the apps)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

APPS = ("demoportal", "sandboxes", "simulation", "analytics", "crm")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(BASE_DIR / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A copy of the apps, to add a wrong import to."""
    for app in APPS:
        shutil.copytree(BASE_DIR / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_code_keeps_every_contract() -> None:
    result = lint_imports(BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "says"),
    [
        # A lower app reaching up: the sandbox lifecycle calling the CRM, the base calling the lifecycle.
        ("sandboxes/services.py", "import crm.services", "sandboxes is not allowed to import crm"),
        ("demoportal/core/models.py", "import sandboxes.models", "demoportal.core is not allowed to import sandboxes"),
        ("analytics/services.py", "import simulation.services", "analytics is not allowed to import simulation"),
        # The plant engine stays plain Python.
        ("simulation/engine/kpis.py", "import django.db", "simulation.engine is not allowed to import django"),
        # A page importing another app's pages, even downward.
        ("crm/views.py", "import sandboxes.views", "No page or API module imports another app's pages or API"),
    ],
)
def test_a_wrong_import_breaks_its_contract(house: Path, module: str, wrong_import: str, says: str) -> None:
    assert lint_imports(house).returncode == 0  # the copy is as good as the original
    with (house / module).open("a") as source:
        source.write(f"\n{wrong_import}  # noqa\n")
    result = lint_imports(house)
    assert result.returncode == 1
    assert says in result.stdout
