"""Configuration: one pydantic-settings class, read once at start.

Nothing else in the project reads ``os.environ``: every part asks for
``load_config()`` and gets the same frozen values.
"""
from __future__ import annotations

import getpass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "portal-console"


def data_dir() -> Path:
    """The per-user folder for the embedded database and the local Maildir."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def _default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'portal.db'}"


def _default_agent() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (containers without /etc/passwd entry)
        return "agent"


class SmtpSecurity(str, Enum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class ConfigError(Exception):
    """A configuration value is invalid; the message names the variable."""


class Config(BaseSettings):
    """Infrastructure settings. Account settings (portal URL, switches) live in the database."""

    model_config = SettingsConfigDict(
        env_prefix="PORTAL_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(default_factory=_default_database_url)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: SmtpSecurity = SmtpSecurity.none
    smtp_timeout: float = Field(default=10.0, gt=0)
    # PEM file of the CAs that sign the relay's certificate (an internal CA); unset: the system's.
    smtp_ca_file: Path | None = None
    maildir: Path = Field(default_factory=lambda: data_dir() / "maildir")
    secret_key: SecretStr | None = None
    agent: str = Field(default_factory=_default_agent, min_length=1, max_length=64)
    # Teams that run dedicated `portal-console mailer` processes switch this off.
    mailer_in_console: bool = True
    mailer_poll_seconds: float = Field(default=2.0, gt=0)
    mailer_lease_seconds: float = Field(default=300.0, gt=0)
    # Where the console writes its log (the background mailer's warnings): never the
    # terminal, which the console's screen owns.
    log_file: Path = Field(default_factory=lambda: data_dir() / "portal-console.log")
    # Prometheus metrics (docs/operations.md). `serve --metrics-port N` and `mailer
    # --metrics-port N` serve them on a port of their own, on this address; with
    # metrics_enabled the portal also answers /metrics on its own (customer-facing) port.
    metrics_enabled: bool = False
    metrics_host: str = "127.0.0.1"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        schemes = ("sqlite://", "postgres://", "postgresql://", "postgresext://", "postgresqlext://")
        if not value.startswith(schemes):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("agent")
    @classmethod
    def _printable_agent(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value.strip()


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    return f"PORTAL_{field.upper()}: {first['msg']}"


@lru_cache(maxsize=1)
def load_config() -> Config:
    """Read the environment and .env once; raise ConfigError naming the bad variable."""
    try:
        return Config()
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None
