"""A devnet that runs and answers is reused without the data dir's lock (chain/devnet/manager.py `up`):
`lpc` opens at once while another lpc holds the lock (a `devnet down`/`reset` or start in progress waits
for it instead), and a record of a devnet that no longer answers still goes through the lock and is
replaced. Real anvil, a real lock held by another process."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from chain.devnet.anvil import free_port
from chain.devnet.manager import Devnet
from tests.waiting import wait_for

HOLD_LOCK = """
import sys
from filelock import FileLock
with FileLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("reuse")
    devnet = Devnet(data_dir)
    info = devnet.up(port=free_port(), block_time=0)
    yield devnet, info
    devnet.down()


def test_a_running_devnet_is_reused_while_another_lpc_holds_the_lock(running):
    devnet, info = running
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(devnet.root / ".lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result: list = []
        threading.Thread(target=lambda: result.append(Devnet(devnet.root.parent).up(port=None)), daemon=True).start()
        reused = wait_for(lambda: result and result[0], timeout=20, what="up() to reuse the running devnet")
        assert reused.reused and reused.rpc_url == info.rpc_url and reused.pid == info.pid
    finally:
        holder.communicate("")


def test_a_record_that_does_not_answer_is_not_reused_without_the_lock(running, tmp_path):
    devnet, info = running
    other = Devnet(tmp_path)
    other.root.mkdir(parents=True)
    # the running anvil's record, but with a chain id it does not answer with
    other.running_file.write_text(devnet.running_file.read_text().replace(f'"chain_id": {info.chain_id}',
                                                                          '"chain_id": 1'))
    assert other._answering() is None
    assert other.running_file.exists()  # left for `up` to clean up under the lock
    assert devnet._answering().rpc_url == info.rpc_url  # the real record answers
