"""go-livepeer command lines pasted after `lpc node`: what --show-config says they mean, and the refusals.

In-process through click's CliRunner (the behaviour is the command's parsing); the real `lpc` subprocess
runs are in tests/gateway/test_gateway_cli.py."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from console.cli import cli
from core.gateway.flags import GO_FLAGS, Kind, parse_go_duration


@pytest.fixture(autouse=True)
def _no_lpc_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("LPC_NODE__", "LPC_GATEWAY__")) or name in ("LPC_NETWORK", "LPC_RPC_URL"):
            monkeypatch.delenv(name)


def run(tmp_path, line: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", *shlex.split(line)], env=env)


def shown(tmp_path, line: str, env: dict | None = None) -> dict[str, str]:
    """--show-config's `key = value` lines by section ("gateway.max_attempts" → "5"); fails on an error."""
    result = run(tmp_path, line + " --show-config", env)
    assert result.exit_code == 0, result.output
    values, section = {}, ""
    for raw in result.stdout.splitlines():
        if raw.startswith("["):
            section = raw.strip("[]") + "."
        elif " = " in raw and not raw.startswith("#"):
            key, value = raw.split(" = ", 1)
            values[section + key] = value
    return values


ORCHESTRATOR = ("-orchestrator -transcoder -serviceAddr 203.0.113.7:8935 -httpAddr 0.0.0.0:8935 "
                "-cliAddr 127.0.0.1:7936 -maxSessions 12 -pricePerUnit 1200 -pixelsPerUnit 1 -nvidia all "
                "-monitor -v 6")
GATEWAY = ("-gateway -network offchain -rtmpAddr :1936 -httpAddr 127.0.0.1:8936 -cliAddr 127.0.0.1:5936 "
           "-orchAddr 127.0.0.1:8935,127.0.0.1:8937 -transcodingOptions P144p30fps16x9,P240p30fps16x9 "
           "-maxSessions 4 -maxAttempts 5 -maxPricePerUnit 1500 -pixelsPerUnit 3 -orchWebhookUrl http://127.0.0.1:9/orchs "
           "-orchBlocklist 0xAbCdEf0123456789abcdef0123456789ABCDEF01 -selectStakeWeight 0.5 -selectPriceWeight 0.2 "
           "-selectRandFreq 0.3 -discoveryTimeout 2s -localVerify=true -authWebhookUrl http://127.0.0.1:9/auth "
           "-currentManifest -monitor -httpIngest=false -maxTicketEV 4000000000000 -maxTotalEV=30000000000000 "
           "-depositMultiplier 2")


def test_a_pasted_orchestrator_command_line(tmp_path):
    v = shown(tmp_path, ORCHESTRATOR)
    assert v["roles"] == '["orchestrator", "transcoder"]' and v["network"] == '"offchain"'
    assert (v["node.service_addr"], v["node.http_addr"], v["node.cli_addr"]) == (
        '"203.0.113.7:8935"', '"0.0.0.0:8935"', '"127.0.0.1:7936"')
    assert (v["node.max_sessions"], v["node.price_per_unit"], v["node.encoder"]) == ("12", "1200", '"nvenc"')
    assert "gateway.http_addr" not in v  # no gateway section: -gateway was not given


def test_a_pasted_gateway_command_line(tmp_path):
    result = run(tmp_path, GATEWAY + " --show-config")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # every flag of that line is implemented: no warning
    v = shown(tmp_path, GATEWAY)
    assert v["roles"] == '["gateway"]' and "node.service_addr" not in v
    assert v["gateway.rtmp_addr"] == '"127.0.0.1:1936"'  # go-livepeer's defaultAddr: ':P' is 127.0.0.1:P
    assert (v["gateway.http_addr"], v["gateway.cli_addr"], v["gateway.max_sessions"]) == (
        '"127.0.0.1:8936"', '"127.0.0.1:5936"', "4")  # -httpAddr/-cliAddr/-maxSessions are the gateway's
    assert v["gateway.orch_addrs"] == '["127.0.0.1:8935", "127.0.0.1:8937"]'
    assert v["gateway.orch_blocklist"] == '["0xabcdef0123456789abcdef0123456789abcdef01"]'
    assert v["gateway.transcoding_options"] == '"P144p30fps16x9,P240p30fps16x9"'
    assert (v["gateway.max_attempts"], v["gateway.max_price_per_unit"], v["gateway.pixels_per_unit"]) == ("5", "1500", "3")
    assert (v["gateway.select_stake_weight"], v["gateway.select_price_weight"], v["gateway.select_rand_freq"]) == (
        "0.5", "0.2", "0.3")
    assert v["gateway.discovery_timeout_s"] == "2.0"
    assert (v["gateway.local_verify"], v["gateway.current_manifest"], v["gateway.monitor"], v["gateway.http_ingest"]) == (
        "true", "true", "true", "false")
    assert v["gateway.auth_webhook_url"] == '"http://127.0.0.1:9/auth"'
    assert v["gateway.orch_webhook_url"] == '"http://127.0.0.1:9/orchs"'
    assert (v["gateway.max_ticket_ev"], v["gateway.max_total_ev"], v["gateway.deposit_multiplier"]) == (
        "4000000000000", "30000000000000", "2")


def test_gateway_defaults_are_go_livepeers(tmp_path):
    result = run(tmp_path, "-gateway --show-config")
    v = shown(tmp_path, "-gateway")
    assert (v["gateway.rtmp_addr"], v["gateway.http_addr"], v["gateway.cli_addr"]) == (
        '"127.0.0.1:1935"', '"127.0.0.1:9935"', '"127.0.0.1:5935"')
    assert v["gateway.transcoding_options"] == '"P240p30fps16x9,P360p30fps16x9"'
    assert (v["gateway.max_sessions"], v["gateway.max_attempts"], v["gateway.discovery_timeout_s"]) == ("10", "3", "0.5")
    assert "No orchestrator specified; transcoding will not happen" in result.stdout


def test_with_an_orchestrator_beside_it_the_shared_flags_are_the_orchestrators(tmp_path):
    """go-livepeer's node is an orchestrator when -orchestrator and -gateway are both given, so -httpAddr,
    -cliAddr and -maxSessions are the orchestrator's; the gateway beside it keeps its own."""
    v = shown(tmp_path, "-orchestrator -transcoder -gateway -httpAddr :8999 -cliAddr 127.0.0.1:7999 -maxSessions 3 "
                        "--gateway-http-addr 127.0.0.1:9999 --gateway-max-sessions 2")
    assert v["roles"] == '["orchestrator", "transcoder", "gateway"]'
    assert (v["node.http_addr"], v["node.cli_addr"], v["node.max_sessions"]) == ('":8999"', '"127.0.0.1:7999"', "3")
    assert (v["gateway.http_addr"], v["gateway.cli_addr"], v["gateway.max_sessions"]) == (
        '"127.0.0.1:9999"', '"127.0.0.1:5935"', "2")


@pytest.mark.parametrize("spelling", [
    "-orchAddr 127.0.0.1:8935 -maxAttempts 4 -transcodingOptions P144p30fps16x9",
    "--orchAddr 127.0.0.1:8935 --maxAttempts 4 --transcodingOptions P144p30fps16x9",
    "-orchAddr=127.0.0.1:8935 -maxAttempts=4 -transcodingOptions=P144p30fps16x9",
    "--orchAddr=127.0.0.1:8935 --maxAttempts=4 --transcodingOptions=P144p30fps16x9",
    "--orch-addr 127.0.0.1:8935 --max-attempts=4 --transcoding-options P144p30fps16x9",
])
def test_one_or_two_dashes_value_or_equals_and_kebab_case_agree(tmp_path, spelling):
    v = shown(tmp_path, f"-gateway {spelling}")
    assert (v["gateway.orch_addrs"], v["gateway.max_attempts"], v["gateway.transcoding_options"]) == (
        '["127.0.0.1:8935"]', "4", '"P144p30fps16x9"')


@pytest.mark.parametrize(("spelling", "monitor"), [
    ("", "false"), ("-monitor", "true"), ("--monitor", "true"), ("-monitor=true", "true"), ("-monitor=1", "true"),
    ("-monitor=false", "false"), ("--monitor=F", "false"), ("--no-monitor", "false"),
    ("-monitor -monitor=false", "false"),  # the last one wins, as in Go
])
def test_go_bool_forms(tmp_path, spelling, monitor):
    env = {"LPC_GATEWAY__MONITOR": "true"} if monitor == "false" and spelling else None  # a false beats the env
    assert shown(tmp_path, f"-gateway {spelling}", env)["gateway.monitor"] == monitor


def test_a_bool_with_a_separate_value_is_refused_with_the_go_spelling(tmp_path):
    result = run(tmp_path, "-gateway -monitor false --show-config")
    assert result.exit_code == 2
    assert "-monitor is a Go bool flag: write -monitor=false" in result.output
    result = run(tmp_path, "-gateway -monitor=maybe --show-config")
    assert result.exit_code == 2 and "-monitor: 'maybe' is not true or false" in result.output


@pytest.mark.parametrize(("duration", "seconds"), [("500ms", "0.5"), ("2s", "2.0"), ("1m30s", "90.0"),
                                                   ("1.5s", "1.5"), ("750000us", "0.75")])
def test_go_durations(tmp_path, duration, seconds):
    assert shown(tmp_path, f"-gateway -discoveryTimeout {duration}")["gateway.discovery_timeout_s"] == seconds
    assert shown(tmp_path, f"-gateway --discovery-timeout={duration}")["gateway.discovery_timeout_s"] == seconds


def test_a_duration_without_a_unit_is_refused(tmp_path):
    result = run(tmp_path, "-gateway -discoveryTimeout 500 --show-config")
    assert result.exit_code == 2
    assert "-discoveryTimeout: '500' is not a Go duration such as 500ms, 2s or 1m30s" in result.output
    assert parse_go_duration("0") == 0.0 and parse_go_duration("-2h") == -7200.0


def test_an_unknown_flag_names_the_closest_known_ones(tmp_path):
    result = run(tmp_path, "-gateway -orchAdr 127.0.0.1:8935 --show-config")
    assert result.exit_code == 2
    assert "No such option: -orchAdr (did you mean -orchAddr (--orch-addr)" in result.output
    result = run(tmp_path, "-gateway --max-atempts 3 --show-config")
    assert result.exit_code == 2 and "-maxAttempts (--max-attempts)" in result.output
    assert "Traceback" not in result.output


def test_a_flag_lpc_does_not_implement_yet_is_accepted_with_one_warning(tmp_path):
    result = run(tmp_path, "-gateway -region us-east -orchMinLivepeerVersion v0.7.0 -minPerfScore=0.5 --show-config")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: -region is accepted and has no effect yet",
        "warning: -orchMinLivepeerVersion is accepted and has no effect yet",
        "warning: -minPerfScore is accepted and has no effect yet",
    ]
    assert "# accepted, no effect yet: -region, -orchMinLivepeerVersion, -minPerfScore" in result.stdout
    result = run(tmp_path, "-gateway -extraNodes lots --show-config")  # still checked as Go would
    assert result.exit_code == 2 and "-extraNodes: 'lots' is not a whole number" in result.output


@pytest.mark.parametrize("line", ["-ethPassword hunter2-secret", "-ethPassword=hunter2-secret",
                                  "--ethPassword=hunter2-secret", "-kafkaPassword hunter2-secret"])
def test_secret_flags_are_refused_and_never_echoed(tmp_path, line):
    result = run(tmp_path, f"-gateway {line} --show-config")
    assert result.exit_code == 2
    assert "hunter2" not in result.output
    flag = line.split()[0].split("=")[0].lstrip("-")
    assert f"-{flag} is refused (its value is not shown)" in result.output
    assert "ps" in result.output
    if flag == "ethPassword":
        assert "lpc keeps keys in the OS keyring" in result.output


def test_network_and_data_dir_and_eth_url(tmp_path):
    other = tmp_path / "lpData"
    v = shown(tmp_path, f"-orchestrator -transcoder -network arbitrum-one-mainnet -dataDir {other} "
                        "-ethUrl https://arb.example/rpc -ethAcctAddr 0x1111111111111111111111111111111111111111")
    assert (v["network"], v["data_dir"], v["rpc_url"]) == ('"arbitrum-one"', f'"{other}"', '"https://arb.example/rpc"')
    assert v["account"] == '"0x1111111111111111111111111111111111111111"' and v["node.offchain"] == "false"
    assert not other.exists()  # --show-config starts nothing and writes nothing
    assert shown(tmp_path, "-orchestrator -transcoder -network=offchain")["node.offchain"] == "true"
    result = run(tmp_path, "-orchestrator -transcoder -network rinkeby --show-config")
    assert result.exit_code == 2 and "rinkeby" in result.output
    result = run(tmp_path, "-orchestrator -transcoder -network offchain --onchain --show-config")
    assert result.exit_code == 2 and "-network offchain contradicts --onchain" in result.output


def test_gateway_settings_flow_into_the_gateway_config_with_flags_winning(tmp_path):
    (tmp_path / "settings.toml").write_text(
        '[gateway]\norch_addrs = ["127.0.0.1:8935", "127.0.0.1:8937"]\nmax_attempts = 7\n'
        'discovery_timeout_s = "750ms"\nmonitor = true\nrtmp_addr = "none"\n')
    v = shown(tmp_path, "-gateway")
    assert (v["gateway.orch_addrs"], v["gateway.max_attempts"], v["gateway.discovery_timeout_s"]) == (
        '["127.0.0.1:8935", "127.0.0.1:8937"]', "7", "0.75")
    assert "gateway.rtmp_addr" not in v  # 'none' turns RTMP off
    v = shown(tmp_path, "-gateway", {"LPC_GATEWAY__ORCH_ADDRS": '["127.0.0.5:8935", "127.0.0.6:8935"]'})
    assert v["gateway.orch_addrs"] == '["127.0.0.5:8935", "127.0.0.6:8935"]'  # a JSON list in one variable
    env = {"LPC_GATEWAY__MAX_ATTEMPTS": "9", "LPC_GATEWAY__ORCH_ADDRS": "127.0.0.2:8935,127.0.0.3:8935"}
    v = shown(tmp_path, "-gateway", env)
    assert (v["gateway.orch_addrs"], v["gateway.max_attempts"], v["gateway.monitor"]) == (
        '["127.0.0.2:8935", "127.0.0.3:8935"]', "9", "true")  # env beats the file
    v = shown(tmp_path, "-gateway -maxAttempts 2 -monitor=false -orchAddr 127.0.0.4:8935", env)
    assert (v["gateway.orch_addrs"], v["gateway.max_attempts"], v["gateway.monitor"]) == (
        '["127.0.0.4:8935"]', "2", "false")  # flags beat both


def test_bad_gateway_values_are_one_clear_line(tmp_path):
    result = run(tmp_path, "-gateway -orchBlocklist https://orch.example:8935 --show-config")
    assert result.exit_code == 2
    assert "'https://orch.example:8935' is not an orchestrator's ETH address" in result.output
    result = run(tmp_path, "-gateway -maxSessions auto --show-config")
    assert result.exit_code == 2 and "'auto' is only for an orchestrator" in result.output
    result = run(tmp_path, "-gateway -orchWebhookUrl orch.example --show-config")
    assert result.exit_code == 2 and "a webhook URL starts with http:// or https://" in result.output
    assert "Traceback" not in result.output


def test_a_webhook_password_is_not_shown(tmp_path):
    result = run(tmp_path, "-gateway -authWebhookUrl https://ops:s3cret@127.0.0.1:9/auth --show-config")
    assert result.exit_code == 0 and "s3cret" not in result.output
    assert 'auth_webhook_url = "https://ops:***@127.0.0.1:9/auth"' in result.stdout


def test_the_table_covers_the_flags_named_in_the_issue():
    named = ("orchAddr serviceAddr cliAddr httpAddr rtmpAddr transcodingOptions maxSessions maxAttempts "
             "maxPricePerUnit pixelsPerUnit pricePerUnit orchWebhookUrl authWebhookUrl orchBlocklist "
             "selectStakeWeight selectPriceWeight selectRandFreq discoveryTimeout localVerify monitor network "
             "gateway broadcaster orchestrator transcoder ethUrl dataDir v").split()
    assert [n for n in named if GO_FLAGS[n].option is None] == []
    assert GO_FLAGS["discoveryTimeout"].kind is Kind.DURATION and GO_FLAGS["monitor"].kind is Kind.BOOL
    assert all(f.refused for f in GO_FLAGS.values() if f.secret)


def test_help_lists_the_go_spelling_beside_the_options(tmp_path):
    result = run(tmp_path, "-help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for go in ("(-orchAddr)", "(-rtmpAddr", "(-transcodingOptions)", "(-discoveryTimeout)", "(-monitor)",
               "(-gateway;", "(-maxAttempts)", "(-orchBlocklist;", "(-network)", "(-ethUrl)", "(-dataDir)"):
        assert go in text, go


def test_a_gateway_list_in_settings_toml_survives_a_rewrite(tmp_path):
    """`lpc wallet use` and the Settings screen rewrite settings.toml: [gateway]'s lists stay lists."""
    from core.gateway.config import gateway_config
    from core.settings import load_settings, write_setting

    (tmp_path / "settings.toml").write_text('[gateway]\norch_addrs = ["127.0.0.1:8935", "127.0.0.1:8937"]\n')
    write_setting(tmp_path, "console.theme", "livepeer-dark")
    assert gateway_config(load_settings(tmp_path)).orch_addrs == ("127.0.0.1:8935", "127.0.0.1:8937")


def test_flags_of_the_part_that_does_not_run_are_said_to_have_no_effect(tmp_path):
    result = run(tmp_path, "-orchestrator -transcoder -orchAddr 127.0.0.1:8935 -authWebhookUrl http://127.0.0.1:9/a "
                           "--show-config")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: --orch-addr: only for the gateway (-gateway), which this command does not run",
        "warning: -authWebhookUrl on an orchestrator (go-livepeer's gateway allow-list) is accepted and has no "
        "effect yet"]
    result = run(tmp_path, "-gateway -pricePerUnit 1200 -serviceAddr 127.0.0.1:8935 --show-config")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        "warning: --service-addr, --price-per-unit: only for the orchestrator (-orchestrator -transcoder), which "
        "this command does not run"]


@pytest.mark.parametrize(("given", "bound"), [(":1936", "127.0.0.1:1936"), ("0.0.0.0", "0.0.0.0:1935"),
                                              ("[::1]", "[::1]:1935"), ("::1", "[::1]:1935"),
                                              ("[::1]:1937", "[::1]:1937")])
def test_rtmp_addr_follows_go_livepeers_default_addr(tmp_path, given, bound):
    assert shown(tmp_path, f"-gateway -rtmpAddr {given}")["gateway.rtmp_addr"] == f'"{bound}"'


def test_a_bad_port_is_named(tmp_path):
    result = run(tmp_path, "-gateway -httpAddr 127.0.0.1:99999 --show-config")
    assert result.exit_code == 2
    assert "http_addr: '127.0.0.1:99999': the port must be a number from 0 to 65535" in result.output
