"""Settings: defaults with no environment, list parsing, and one readable line per bad value."""

from __future__ import annotations

import pytest

from config.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    for name in list(os.environ):
        if name.startswith("NEWSALERT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_builds_with_no_environment() -> None:
    settings = Settings()
    assert str(settings.db_path) == "data/newsalert.db"
    assert settings.telegram.api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram.admin_ids == [] and not settings.telegram.enabled
    assert settings.matrix.auto_join and not settings.matrix.enabled
    assert settings.feeds.poll_seconds == 600 and settings.feeds.backfill_hours == 24
    assert not settings.feeds.allow_private_hosts


@pytest.mark.parametrize(("raw", "expected"), [("1,2", [1, 2]), ("[3, 4]", [3, 4]), ("", []), (" 5 ", [5])])
def test_admin_ids_accept_json_and_commas(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]) -> None:
    monkeypatch.setenv("NEWSALERT_TELEGRAM__ADMIN_IDS", raw)
    assert load_settings().telegram.admin_ids == expected


def test_matrix_lists_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_MATRIX__HOMESERVER", "https://matrix.example.org")
    monkeypatch.setenv("NEWSALERT_MATRIX__USER_ID", "@bot:example.org")
    monkeypatch.setenv("NEWSALERT_MATRIX__PASSWORD", "hunter2")
    monkeypatch.setenv("NEWSALERT_MATRIX__ALLOWED_INVITERS", "@a:example.org,:example.org")
    settings = load_settings()
    assert settings.matrix.enabled
    assert settings.matrix.allowed_inviters == ["@a:example.org", ":example.org"]
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSALERT_TELEGRAM__ADMIN_IDS", "abc"),
        ("NEWSALERT_FEEDS__POLL_SECONDS", "often"),
        ("NEWSALERT_LOG_LEVEL", "LOUD"),
        ("NEWSALERT_MATRIX__AUTO_JOIN", "perhaps"),
        ("NEWSALERT_FEEDS__ALLOW_PRIVATE_HOSTS", "maybe"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(name + ":")


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


def test_half_a_matrix_configuration_is_an_error_not_a_silent_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_MATRIX__HOMESERVER", "https://matrix.example.org")
    monkeypatch.setenv("NEWSALERT_MATRIX__PASWORD", "typo-in-the-name")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    [problem] = caught.value.problems
    assert "NEWSALERT_MATRIX__USER_ID" in problem and "NEWSALERT_MATRIX__PASSWORD" in problem


def test_errors_never_echo_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_MATRIX__PASSWORD", "hunter2")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


def test_a_section_given_as_a_plain_value_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSALERT_TELEGRAM", "abc")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    [problem] = caught.value.problems
    assert problem.startswith("NEWSALERT_TELEGRAM:")
