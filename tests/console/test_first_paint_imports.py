"""`lpc` paints its first screen before it loads the heavy libraries: web3 (and its eth_account), the
media stack (av, torch) and SQLAlchemy come with the first chain read, the node or a screen that needs
them, after the first frame. Run as a user runs it (`lpc --data-dir D` on a running devnet), in a
subprocess, looking at sys.modules at the moment the first frame of the first console screen is drawn.
The settings model (pydantic) comes after the first frame too, on a start whose settings the model
already accepted (console/quick_settings.py), and so does keyring.
The speed this buys is measured in bench/first_paint.py; this test keeps it from silently regressing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from console.quick_settings import CHECKED_FILE

REPO = Path(__file__).resolve().parents[2]
NOT_BEFORE_PAINT = ("web3", "eth_account", "torch", "av", "sqlalchemy", "pydantic", "keyring")

# The child runs the real entry point; Textual runs headless (no terminal here), and at the first frame
# of a console screen the child prints what is loaded and leaves at once.
CHILD = """
import json, os, sys
from textual.app import App
run, display = App.run, App._display
def first_frame(self, screen, renderable):
    display(self, screen, renderable)
    if renderable is not None and type(screen).__module__.startswith("console."):
        sys.stdout.write(json.dumps({"screen": type(screen).__name__, "loaded": sorted(
            m for m in WATCHED if m in sys.modules)}) + "\\n")
        sys.stdout.flush()
        os._exit(0)
App._display = first_frame
App.run = lambda self, *a, **k: run(self, *a, **{**k, "headless": True})
sys.argv = ["lpc", "--data-dir", DATA_DIR]
from console.cli import main
main()
sys.exit("the console ended without drawing a screen")
"""


def _first_frame(data_dir: Path, env: dict[str, str]) -> dict:
    """`lpc --data-dir DATA_DIR` in a subprocess, up to its first frame: the screen and what was loaded."""
    code = f"WATCHED = {NOT_BEFORE_PAINT!r}\nDATA_DIR = {str(data_dir)!r}\n" + CHILD
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env,
                         stdin=subprocess.DEVNULL, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_first_paint_comes_before_web3_torch_av_and_the_settings_model(devnet_data_dir, tmp_path):
    data_dir, _info = devnet_data_dir
    from chain.devnet.accounts import dev_account
    from chain.devnet.seed import DEFAULT_ACCOUNT_INDEX
    from core.store import open_store

    open_store(data_dir).close()  # a data dir in use has its database, which lpc checks before it opens

    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    # an account already chosen (as on every start after the first), so no key is stored by this test
    env.update(LPC_ACCOUNT=dev_account(DEFAULT_ACCOUNT_INDEX).address, PYTHONPATH=str(REPO), HOME=str(tmp_path))
    (data_dir / CHECKED_FILE).unlink(missing_ok=True)
    # These inputs are new to lpc: it validates them with the settings model before it starts …
    first = _first_frame(data_dir, env)
    assert first["loaded"] == ["pydantic"], f"loaded before the first frame: {first['loaded']}"
    # … and the next start with the same ones paints before it loads the model
    painted = _first_frame(data_dir, env)
    assert painted["loaded"] == [], f"loaded before the first frame: {painted['loaded']}"
    assert painted["screen"] == "OverviewScreen"  # the orchestrator's Dashboard comes after its read
