"""`make test` guards the layers of ARCHITECTURE.md too: the import-linter contracts in .importlinter."""

import configparser
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
CONFIG = REPO_DIR / ".importlinter"


def _lint_imports() -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(executable), "--config", str(CONFIG), "--no-cache"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_import_layer_contract_is_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_app_has_a_place_in_the_layers():
    contracts = configparser.ConfigParser()
    contracts.read(CONFIG)
    layers = contracts["importlinter:contract:layers"]["layers"]
    listed = {name.strip("() ") for line in layers.split() for name in line.replace("|", ":").split(":")}
    apps = {
        path.name
        for path in (REPO_DIR / "src" / "forecourt").iterdir()
        if path.is_dir() and (path / "__init__.py").exists()
    }
    assert apps <= listed, f"give these apps a layer in .importlinter: {sorted(apps - listed)}"
