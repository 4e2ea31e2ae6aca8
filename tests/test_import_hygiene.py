"""The dependency direction of STYLE.md holds: import-linter contracts pass, and the headless packages
never load textual (so `lpc node` runs on servers without the TUI stack)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["core", "chain", "gpu", "core.composition", "chain.devnet.manager", "console.cli"])
def test_headless_packages_do_not_load_textual(package):
    code = (
        f"import importlib, sys; importlib.import_module({package!r}); "
        "loaded = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; "
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "", f"importing {package} loaded {out.stdout.strip()}"


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" not in out.stdout.lower().replace("0 broken", "")
