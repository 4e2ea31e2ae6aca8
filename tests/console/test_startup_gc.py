"""lpc's entry point holds Python's garbage collector off only for the console's start
(console/startup_gc.py): a subcommand - the node, which runs for days - has it back before its modules
load. In a subprocess, as a user runs `lpc`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import gc, sys
import click
from console.cli import cli, main
@cli.command("gc-state")
def gc_state():
    click.echo(f"collector on: {gc.isenabled()}")
sys.argv = ["lpc", "gc-state"]
main()
"""


def test_a_subcommand_runs_with_the_garbage_collector_on(tmp_path):
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=REPO,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
                         stdin=subprocess.DEVNULL, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "collector on: True"
