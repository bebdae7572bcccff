"""The `regia` command line without any service running: help texts, clear errors, and the
small pieces `regia up` is made of."""

import signal

import pytest
from typer.testing import CliRunner

from regia.cli import app
from regia.local.embedded.process import free_port
from regia.local.interrupts import Interrupts, Shutdown
from regia.local.summary import masked_dsn
from regia.operator.demo import instructions
from regia_shared.contracts.catalogue import SERVICES, SettingError, env_port, local_url

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "test", "topics", "keys"):
        assert command in result.output


@pytest.mark.parametrize(
    "args, expected",
    [
        (["up", "--help"], ["--demo", "--data-dir", "REGIA_DATABASE_URL"]),
        (["keys", "--help"], ["issue", "list", "revoke", "REGIA_ADMIN_TOKEN"]),
        (["keys", "issue", "--help"], ["INSTITUTION", "--label"]),
        (["test", "--help"], ["pytest"]),
    ],
)
def test_help_texts_say_what_each_command_needs(args: list[str], expected: list[str]) -> None:
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "issue", "regione-liguria"],
        ["keys", "list", "regione-liguria"],
        ["keys", "revoke", "abc"],
    ],
)
def test_keys_commands_without_a_token_say_which_variable_to_set(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGIA_ADMIN_TOKEN", raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "REGIA_ADMIN_TOKEN is not set" in result.output
    assert "Traceback" not in result.output


def test_keys_command_says_when_funding_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "a-secret-admin-token"
    monkeypatch.setenv("REGIA_ADMIN_TOKEN", token)
    monkeypatch.setenv("REGIA_FUNDING_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["keys", "list", "regione-liguria"])
    assert result.exit_code == 1
    assert "cannot reach the funding service" in result.output
    assert token not in result.output


def test_ports_come_from_the_environment_with_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [s.port({}) for s in SERVICES] == [8101, 8102, 8103, 8104]
    assert SERVICES[1].port({"REGIA_OBJECTIVES_PORT": "18102"}) == 18102
    with pytest.raises(SettingError, match="REGIA_EMBEDDED_PG_PORT='five'"):
        env_port("REGIA_EMBEDDED_PG_PORT", 55432, {"REGIA_EMBEDDED_PG_PORT": "five"})
    assert local_url(8101, {"REGIA_HTTP_HOST": "0.0.0.0"}) == "http://127.0.0.1:8101"


def test_an_external_database_password_is_never_printed() -> None:
    assert (
        masked_dsn("postgresql://regia:s3cret@db.example:5432/regia") == "postgresql://regia:***@db.example:5432/regia"
    )
    assert masked_dsn("postgresql://postgres@127.0.0.1:55432/regia") == "postgresql://postgres@127.0.0.1:55432/regia"


def test_demo_instructions_show_the_key_once_and_a_pasteable_commitment() -> None:
    urls = {"funding": "http://127.0.0.1:8101", "objectives": "http://127.0.0.1:8102"}
    text = instructions(urls, "k1", "rgk_k1.secret")
    assert text.count("rgk_k1.secret") == 1
    assert '"type":"commitment"' in text and '"committed_cents":450000000' in text
    assert "Idempotency-Key:" in text and "$REGIA_DEMO_KEY" in text


def test_a_signal_during_a_child_start_is_raised_after_it() -> None:
    interrupts = Interrupts()
    with pytest.raises(Shutdown):
        with interrupts.deferred():
            interrupts._handle(signal.SIGTERM, None)  # as if delivered mid-start
            started = True  # still reached: the child gets registered
    assert started


@pytest.mark.parametrize("rates", ["fast", "0", "-50", "200,,x", "9000", ""])
def test_bench_refuses_propagation_rates_it_cannot_run_before_starting_anything(rates: str) -> None:
    result = runner.invoke(app, ["bench", "--only", "propagation", "--propagation-rates", rates])
    assert result.exit_code == 2
    assert "--propagation-rates" in result.output and "comma-separated" in result.output


def test_bench_takes_the_propagation_rates_it_is_given() -> None:
    from regia.bench import _rates

    assert _rates("50, 200,400") == (50.0, 200.0, 400.0)
