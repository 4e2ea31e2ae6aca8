"""First paint of the console against a Textual hello-world, measured the same way in one run.

Each sample is a fresh process in a pseudo-terminal (150×40, the real Linux driver, nothing headless):
from just before the process is spawned until the first frame of the first screen has been written to
the terminal (App._display returned for it). The hello-world is `App` with one `Static`; the console
is `lpc --data-dir D` on a devnet that is already running and a data dir with its database (the usual
start after the first), with a private Secret Service so nothing asks for a password. The samples
alternate between the two so load from other processes on the machine falls on both alike; the figures
are medians. The CPU time each process used up to its first frame is printed too: on a machine shared
with other work it moves less than the wall time.

    .venv/bin/python bench/first_paint.py [runs] [--against REV]

With --against REV the console of an earlier commit (git archive of REV) is measured in the same rounds.

It also lists which heavy libraries were already imported when the first frame was written.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (150, 40)
HEAVY = ("web3", "eth_account", "eth_utils", "torch", "av", "sqlalchemy", "alembic", "grpc", "hypercorn", "pydantic",
         "keyring", "numpy", "plotext", "psutil")
CHILD_TIMEOUT_S = 120.0


# The measured process. It imports only what it needs to time itself (the bench's own imports would be
# paid by both programs): Textual's App._display is wrapped when textual.app is first imported, so the
# console child is `lpc`'s real entry point from its first import (console.cli, then Textual inside it).
CHILD = r"""
import json, os, sys, time
kind, result_path, start, heavy = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(",")

def wrap(App):
    original = App._display

    def display(self, screen, renderable):
        original(self, screen, renderable)
        wanted = type(screen).__module__.startswith("console.") if kind == "console" else True
        if renderable is not None and wanted:
            elapsed, cpu = time.time() - start, time.process_time()
            loaded = sorted(m for m in heavy if m in sys.modules)
            with open(result_path, "w") as f:
                f.write(json.dumps({"seconds": elapsed, "cpu": cpu, "loaded": loaded, "screen": type(screen).__name__}))
            os._exit(0)

    App._display = display

class Hook:
    def find_spec(self, name, path, target=None):
        if name != "textual.app":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module

        def exec_and_wrap(module):
            exec_module(module)
            wrap(module.App)

        spec.loader.exec_module = exec_and_wrap
        return spec

sys.meta_path.insert(0, Hook())
if kind == "hello":
    from textual.app import App
    from textual.widgets import Static

    class Hello(App):
        def compose(self):
            yield Static("Hello, world!")

    Hello().run()
else:
    sys.argv = ["lpc", "--data-dir", os.environ["LPC_BENCH_DATA_DIR"]]
    from console.cli import main
    main()
os._exit(3)  # the app ended without painting
"""


def sample(kind: str, data_dir: Path, env: dict[str, str], tree: Path = REPO) -> dict:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = Path(f.name)
    result.write_text("")
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(result), repr(start), ",".join(HEAVY)],
        stdin=slave, stdout=slave, stderr=slave, close_fds=True, cwd=tree,
        env={**env, "LPC_BENCH_DATA_DIR": str(data_dir), "TERM": "xterm-256color",
             "PYTHONPATH": os.pathsep.join(filter(None, (str(tree), env.get("PYTHONPATH"))))},
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = result.read_text()
    result.unlink(missing_ok=True)
    if not text:
        raise SystemExit(f"{kind}: no first paint (exit {proc.returncode}); terminal said:\n"
                         f"{output.decode(errors='replace')[-2000:]}")
    return json.loads(text)


def _byte_compiled(env: dict[str, str], cache: Path) -> dict[str, str]:
    """Both programs run from bytecode caches, as an installed lpc does (pip compiles a wheel's modules
    when it installs them). A checkout run with PYTHONDONTWRITEBYTECODE (or from a read-only tree) would
    compile every module of the repo from source at each start, ~100 ms that no user pays, while
    Textual's own modules in site-packages were compiled at install. The caches go to a private prefix,
    not into the tree."""
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def main() -> None:
    args = sys.argv[1:]
    against = None
    if "--against" in args:
        at = args.index("--against")
        against = args[at + 1]
        del args[at:at + 2]
    report(int(args[0]) if args else 7, against=against)


def report(runs: int, against: str | None = None) -> None:
    """Measure and print the first-paint comparison (also run by bench/console.py). With `against` (a git
    revision), the console of that revision is measured too, in the same rounds, on the same data dir."""
    sys.path[0] = str(REPO)
    from chain.devnet.anvil import free_port
    from chain.devnet.manager import Devnet
    from tests.keyring_session import running_keyring

    root = Path(tempfile.mkdtemp(prefix="lpc-bench-paint-"))
    data_dir = root / "data"
    devnet = Devnet(data_dir)
    consoles = {"console": REPO}
    if against:
        old = root / "against"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", against], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        consoles = {f"console at {against}": old, **consoles}
    kinds = ["hello", *consoles]
    try:
        with running_keyring(root / "keyring"):
            print("starting the devnet…", file=sys.stderr, flush=True)
            devnet.up(port=free_port(), block_time=0)
            env = _byte_compiled(dict(os.environ), root / "pycache")
            sample("hello", data_dir, env)  # first runs: write the bytecode caches; not counted
            for tree in consoles.values():
                sample("console", data_dir, env, tree)  # (and store the devnet account)
            from core.store import open_store

            open_store(data_dir).close()  # as a data dir in use: the database lpc checks at start
            for tree in consoles.values():
                sample("console", data_dir, env, tree)  # (the checks a start after the first relies on)
            figures: dict[str, list[float]] = {k: [] for k in kinds}
            cpu: dict[str, list[float]] = {k: [] for k in kinds}
            last: dict[str, dict] = {}
            for i in range(runs):
                for kind in kinds:
                    last[kind] = sample("hello", data_dir, env) if kind == "hello" else \
                        sample("console", data_dir, env, consoles[kind])
                    figures[kind].append(last[kind]["seconds"])
                    cpu[kind].append(last[kind]["cpu"])
                print(f"  run {i + 1}/{runs}: " + ", ".join(f"{k} {figures[k][-1] * 1000:.0f} ms" for k in kinds),
                      file=sys.stderr, flush=True)
    finally:
        devnet.down()
        shutil.rmtree(root, ignore_errors=True)
    hello, hello_cpu = statistics.median(figures["hello"]), statistics.median(cpu["hello"])
    print(f"first paint, process start to first frame in a {SIZE[0]}×{SIZE[1]} pty, median of {runs} "
          f"(load average {os.getloadavg()[0]:.2f})")
    print(f"  {'':42}{'wall':>8}      {'CPU':>6}")
    for kind in kinds:
        wall, used = statistics.median(figures[kind]), statistics.median(cpu[kind])
        label = "Textual hello-world" if kind == "hello" else f"lpc {kind} ({last[kind]['screen']})"
        ratio = "" if kind == "hello" else f"  {wall / hello:.2f}x wall, {used / hello_cpu:.2f}x CPU"
        print(f"  {label:42}{wall * 1000:>8.0f} ms {used * 1000:>6.0f} ms{ratio}   "
              f"loaded: {', '.join(last[kind]['loaded']) or '-'}")
    print("  (target: console ≤ 2x hello-world; issue #16 measured 901 ms vs ≈330 ms)")


if __name__ == "__main__":
    main()
