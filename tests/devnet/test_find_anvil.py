"""LPC_ANVIL_PATH may name npm's JavaScript wrapper (node_modules/.bin/anvil): lpc starts the platform
binary behind it, so the pid it records and stops is anvil's own, not node's."""

from __future__ import annotations

import stat

import pytest

from chain.devnet.anvil import BUNDLED_ANVIL, REPO_DEVTOOLS, AnvilNotFound, find_anvil

WRAPPER = REPO_DEVTOOLS / "node_modules" / ".bin" / "anvil"


@pytest.mark.skipif(not WRAPPER.exists(), reason="the set-up command installs packaging/devtools")
def test_the_npm_wrapper_resolves_to_the_binary_it_runs(monkeypatch):
    monkeypatch.setenv("LPC_ANVIL_PATH", str(WRAPPER))
    found = find_anvil()
    assert found.resolve() == BUNDLED_ANVIL.resolve()
    assert not found.read_bytes()[:2] == b"#!"  # an executable, not a script


def test_a_wrapper_without_its_binary_is_refused_in_words(tmp_path, monkeypatch):
    pkg = tmp_path / "node_modules" / "@foundry-rs" / "anvil"
    pkg.mkdir(parents=True)
    script = pkg / "bin.mjs"
    script.write_text("#!/usr/bin/env node\nconsole.log('anvil')\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("LPC_ANVIL_PATH", str(script))
    with pytest.raises(AnvilNotFound, match="JavaScript wrapper") as err:
        find_anvil()
    assert "LPC_ANVIL_PATH" in str(err.value)
