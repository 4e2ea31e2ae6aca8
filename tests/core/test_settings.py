"""Settings precedence: defaults < settings.toml < LPC_* env < flags, and clear errors."""

import pytest

from core.settings import Network, SettingsError, load_settings, write_setting


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("LPC_"):
            monkeypatch.delenv(key)


def test_defaults_are_the_embedded_devnet(tmp_path):
    s = load_settings(tmp_path)
    assert s.network is Network.DEVNET and s.rpc_url is None and s.data_dir == tmp_path.resolve()
    assert s.devnet.port == 8545


def test_file_then_env_then_flags(tmp_path, monkeypatch):
    write_setting(tmp_path, "devnet.port", 9000)
    write_setting(tmp_path, "network", "arbitrum-one")
    assert load_settings(tmp_path).devnet.port == 9000
    assert load_settings(tmp_path).network is Network.ARBITRUM_ONE
    monkeypatch.setenv("LPC_DEVNET__PORT", "9100")
    monkeypatch.setenv("LPC_NETWORK", "devnet")
    s = load_settings(tmp_path)
    assert (s.devnet.port, s.network) == (9100, Network.DEVNET)
    assert s.devnet.block_time == 10.0  # untouched nested values keep their defaults
    s = load_settings(tmp_path, devnet__port=9200, network="arbitrum-one")
    assert (s.devnet.port, s.network) == (9200, Network.ARBITRUM_ONE)


def test_data_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LPC_DATA_DIR", str(tmp_path / "x"))
    assert load_settings().data_dir == (tmp_path / "x").resolve()
    assert load_settings(tmp_path / "y").data_dir == (tmp_path / "y").resolve()


def test_bad_values_name_the_field_and_the_file(tmp_path):
    with pytest.raises(SettingsError, match="rpc_url"):
        load_settings(tmp_path, rpc_url="ftp://example")
    (tmp_path / "settings.toml").write_text("[devnet]\nport = 'eighty'\n")
    with pytest.raises(SettingsError, match=r"devnet\.port.*settings\.toml"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text("network = [unclosed\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(tmp_path)


def test_write_setting_refuses_invalid_values_and_keeps_the_file(tmp_path):
    write_setting(tmp_path, "devnet.port", 9000)
    before = (tmp_path / "settings.toml").read_text()
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="port"):
        write_setting(tmp_path, "devnet.port", 70000)
    assert (tmp_path / "settings.toml").read_text() == before


def test_node_prices_and_gateway_caps_are_checked_when_read(tmp_path):
    (tmp_path / "settings.toml").write_text('[node]\nprice_per_unit = "0.5 usd"\npixels_per_unit = 1000000\n')
    assert load_settings(tmp_path).node.price_per_unit == "0.5USD"
    (tmp_path / "settings.toml").write_text('[node]\nprice_per_unit = "12,5USD"\n')
    with pytest.raises(SettingsError, match=r"node\.price_per_unit.*is not a price"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text('[node.gateway_max_prices]\n"0xGateway" = 1200\n')
    with pytest.raises(SettingsError, match="'0xGateway' is not a gateway address"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text('[node]\nprice_feed = "0x639F"\n')
    with pytest.raises(SettingsError, match="is not a 0x address"):
        load_settings(tmp_path)
