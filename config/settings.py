"""Runtime settings, read once at start from the environment (prefix ``NEWSALERT_``) and an optional ``.env``.

Nothing here runs at import time: the application builds one :class:`Settings` in ``bot.cli`` and passes it
down. Lists accept JSON (``[1,2]``) as well as comma-separated values (``1,2``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from config.locations import default_cache_dir


def _split_list(value: Any) -> Any:
    """Accept ``[1,2]`` (JSON), ``1,2`` and ``''`` for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a valid JSON list: {exc.msg}") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


IntList = Annotated[list[int], NoDecode, BeforeValidator(_split_list)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    admin_ids: IntList = Field(default_factory=list)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # Telegram's documented broadcast limits; the bench raises them against the test server.
    global_rate: float = Field(default=30.0, gt=0)
    per_chat_rate: float = Field(default=1.0, gt=0)
    per_group_per_minute: int = Field(default=20, gt=0)
    poll_timeout: int = Field(default=10, ge=0)
    # Paid broadcasts (``allow_paid_broadcast``, billed in Stars) lift Telegram's limit to 1,000 msg/s.
    paid_broadcast: bool = False
    # Webhook mode (instead of polling): Telegram posts updates to WEBHOOK_URL (a reverse proxy forwards them
    # to WEBHOOK_LISTEN on every instance); each request must carry WEBHOOK_SECRET.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret: SecretStr | None = None

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError("must be an https:// URL that Telegram can reach, e.g. https://bot.example.org/telegram")
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_listen")
    @classmethod
    def _webhook_listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8443 or 0.0.0.0:8443")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        # Without the secret anyone who learns the URL could post fake updates (admin commands included).
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("NEWSALERT_TELEGRAM__WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @property
    def enabled(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())

    @property
    def send_rate(self) -> float:
        """The global pacing the delivery service keeps: ``global_rate``, raised to the paid-broadcast
        ceiling when paid broadcasts are on (a higher configured rate is kept, e.g. against a test server)."""
        return max(self.global_rate, 1000.0) if self.paid_broadcast else self.global_rate


class MatrixSettings(BaseModel):
    homeserver: str | None = None
    user_id: str | None = None
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "newsalert"
    admin_ids: StrList = Field(default_factory=list)
    auto_join: bool = True
    allowed_inviters: StrList = Field(default_factory=list)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    sync_timeout_ms: int = Field(default=10_000, ge=0)
    encryption: bool = True
    store_dir: Path | None = None  # default: a matrix-store/ folder beside the database
    pickle_key: SecretStr | None = None  # default: generated once and kept in the bot's state

    @property
    def enabled(self) -> bool:
        return bool(self.homeserver and self.user_id and (self.password or self.access_token))

    def store_path(self, db_path: Path) -> Path:
        """Where the crypto store lives: the configured folder, else ``matrix-store/`` beside the database."""
        return self.store_dir if self.store_dir is not None else db_path.parent / "matrix-store"

    @model_validator(mode="after")
    def _complete_or_absent(self) -> MatrixSettings:
        """Half a configuration (a typo in one variable) must not silently start the console instead."""
        given = {
            "HOMESERVER": bool(self.homeserver),
            "USER_ID": bool(self.user_id),
            "PASSWORD (or NEWSALERT_MATRIX__ACCESS_TOKEN)": bool(self.password or self.access_token),
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(f"NEWSALERT_MATRIX__{name}" for name, ok in given.items() if not ok)
            raise ValueError(f"Matrix is only partly configured: also set {missing}")
        return self


class FeedSettings(BaseModel):
    poll_seconds: int = Field(default=600, ge=10)
    backfill_hours: int = Field(default=24, ge=0)
    allow_private_hosts: bool = False
    fetch_full_text: bool = False
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_failures: int = Field(default=8, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSALERT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    db_path: Path = Path("data/newsalert.db")
    # postgresql://user:password@host:port/dbname selects PostgreSQL (several instances); unset: db_path.
    database_url: SecretStr | None = None
    seeds_dir: Path = Path("seeds")
    # derived data that is rebuilt when missing (lemma dictionaries); default $XDG_CACHE_HOME/newsalert
    cache_dir: Path = Field(default_factory=default_cache_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    max_subscriptions_per_chat: int = Field(default=50, ge=1)
    max_query_chars: int = Field(default=200, ge=10, le=300)  # the query parser's own limit is 300
    digest_cap: int = Field(default=10, ge=1)
    summary_bullets: int = Field(default=3, ge=1, le=10)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not text.strip():
            return None  # an empty variable means "not set": the SQLite file
        # The scheme is checked where the database is opened: a validation error here would echo the URL,
        # password included, in the configuration error line.
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class SettingsError(Exception):
    """Bad configuration, with one readable line per problem (no traceback for the user)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _env_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return "NEWSALERT_" + "__".join(part.upper() for part in parts)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; turn validation errors into :class:`SettingsError` naming each variable."""
    try:
        return Settings(**overrides)
    except PydanticSettingsError as exc:
        # e.g. NEWSALERT_TELEGRAM=abc: a whole section given as a plain value
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"NEWSALERT_{field.group(1).upper()}" if field else "NEWSALERT_*"
        raise SettingsError([f"{name}: cannot be read ({exc}); set its parts as {name}__NAME instead"]) from None
    except UnicodeDecodeError as exc:
        raise SettingsError([f".env: not UTF-8 text ({exc.reason})"]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err.get("loc", ())
            # list items report their index last: name the variable, not the index
            name = _env_name(tuple(p for p in loc if not isinstance(p, int)))
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            value = err.get("input")
            # Only plain values are echoed: a whole section could contain a password.
            shown = f" (got {value!r})" if isinstance(value, str | int | float) and "secret" not in name.lower() else ""
            problems.append(f"{name}: {message}{shown}")
        raise SettingsError(problems) from None
