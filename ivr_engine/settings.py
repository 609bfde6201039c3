"""Engine settings: one YAML file, validated, with environment overrides.

Values come from ``config/engine.yaml`` (or the file named by ``IVR_ENGINE_SETTINGS``) and
can be overridden per key from the environment as ``IVR_ENGINE_<SECTION>__<KEY>``.
Secrets are never logged: ``SecretStr`` keeps them out of reprs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from acd.service_level import ServiceLevelDefinition
from ground.paths import PROJECT_ROOT
from ground.yaml_source import EMPTY, YamlSource, YamlSourceError, parse_yaml

DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "config" / "engine.yaml"
ENV_PREFIX = "IVR_ENGINE_"
MAX_SETTINGS_BYTES = 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(4573, ge=0, le=65535)
    command_timeout: float = Field(30.0, gt=0)
    header_timeout: float = Field(5.0, gt=0)
    max_header_bytes: int = Field(16384, ge=1024)
    shutdown_grace: float = Field(20.0, ge=0)


class AmiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "ivr-engine"
    secret: SecretStr = SecretStr("")
    action_timeout: float = Field(5.0, gt=0)
    reconnect_min: float = Field(0.5, gt=0)
    reconnect_max: float = Field(10.0, gt=0)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/ivr-engine.db"


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class FallbackSettings(_Section):
    destination: str = Field("8001", pattern=r"^[0-9A-Za-z_*#+-]+$")
    ring_timeout: int = Field(30, ge=1, le=600)


class HotlineSettings(_Section):
    menus: str = Field("config/menus", description="Menu files or a directory of them.")
    region: str = Field("beijing", description="Home region of this hotline's subscribers.")
    holidays: str = "config/holidays.yaml"
    reload_interval: float = Field(
        2.0, ge=0, description="Seconds between checks for edits; 0 off."
    )


class CalendarSettings(_Section):
    timezone: str = "Asia/Shanghai"
    weekend_from: str = Field("fri 18:00", pattern=r"^(mon|tue|wed|thu|fri|sat|sun) \d\d:\d\d$")
    weekend_to: str = Field("sun 00:00", pattern=r"^(mon|tue|wed|thu|fri|sat|sun) \d\d:\d\d$")
    fixed_time: str | None = Field(
        None, description="FOR TESTS ONLY: an ISO time the engine takes as now."
    )


class BackendSettings(_Section):
    kind: Literal["sql", "http"] = "sql"
    url: str | None = Field(
        None,
        description="http: the CRM's base URL; sql: the database URL"
        " (default: the engine's database).",
    )
    token: SecretStr = Field(
        SecretStr(""), description="http: a bearer token the CRM requires (none: no header)."
    )
    timeout: float = Field(2.0, gt=0)
    retries: int = Field(2, ge=0, le=5)
    breaker_failures: int = Field(5, ge=1)
    breaker_reset: float = Field(30.0, gt=0)


class AcdSettings(_Section):
    enabled: bool = Field(True, description="Route queue nodes through the ACD.")
    config: str = Field("config/acd.yaml", description="Skills, queues and agents.")
    poll_interval: float = Field(
        0.5, gt=0, le=10, description="Seconds between matching passes (other instances' changes)."
    )
    reconcile_interval: float = Field(
        10.0, gt=0, description="Seconds between checks of agents against Asterisk's channels."
    )


class ReportSettings(_Section):
    service_level: ServiceLevelDefinition = ServiceLevelDefinition()
    repeat_window_h: float = Field(
        24.0, gt=0, description="A caller who calls again within this many hours is a repeat."
    )


class PrivacySettings(_Section):
    mask_numbers_in_logs: bool = Field(
        True, description="Calling numbers in log lines as 139****9000 (card numbers always)."
    )
    journal_numbers: Literal["full", "masked", "keyed"] = Field(
        "full",
        description="The journal's caller numbers: full; masked (139****9000); keyed"
        " (139****9000#<keyed hash>: repeat callers still recognised, needs number_key).",
    )
    visible_head: int = Field(3, ge=0, le=6, description="Leading digits left visible.")
    visible_tail: int = Field(4, ge=0, le=6, description="Trailing digits left visible.")
    number_key: SecretStr = Field(
        SecretStr(""), description="The key of the keyed hash (journal_numbers: keyed)."
    )

    @model_validator(mode="after")
    def _key_when_keyed(self) -> PrivacySettings:
        if self.journal_numbers == "keyed" and len(self.number_key.get_secret_value()) < 16:
            raise ValueError("journal_numbers keyed needs a number_key of 16 characters or more")
        return self


class NuisanceSettings(_Section):
    enabled: bool = Field(True, description="Blacklist numbers that call too often.")
    max_calls: int = Field(20, ge=1, description="Calls allowed from one number in the window.")
    window_min: float = Field(10.0, gt=0, le=1440, description="The window, in minutes.")
    block_min: float = Field(60.0, gt=0, le=43200, description="How long the number is refused.")
    exempt: list[str] = Field(
        default_factory=list, description="Numbers never counted (test lines, own sites)."
    )

    @field_validator("exempt", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # From the environment: IVR_ENGINE_NUISANCE__EXEMPT=10086,13800138000
        return (
            [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else value
        )


class Settings(_Section):
    agi: AgiSettings = AgiSettings()
    ami: AmiSettings = AmiSettings()
    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    fallback: FallbackSettings = FallbackSettings()
    hotline: HotlineSettings = HotlineSettings()
    calendar: CalendarSettings = CalendarSettings()
    backend: BackendSettings = BackendSettings()
    acd: AcdSettings = AcdSettings()
    reports: ReportSettings = ReportSettings()
    privacy: PrivacySettings = PrivacySettings()
    nuisance: NuisanceSettings = NuisanceSettings()
    source: str = Field("<defaults>", exclude=True)

    def path(self, value: str) -> Path:
        """A path from the settings, relative ones taken from the project root."""
        candidate = Path(value)
        return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate

    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the project root."""
        url = self.database.url
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
            path = url[len(prefix) :]
            if path and path != ":memory:":
                return prefix + str(PROJECT_ROOT / path)
        return url


class SettingsError(Exception):
    """The settings file is missing, unreadable or invalid."""


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        overrides.setdefault(section, {})[key] = value
    return overrides


def _yaml_refused(chosen: Path, exc: YamlSourceError) -> SettingsError:
    """The file's problems by line (and column, for a syntax error), never its text."""
    cause = exc.__cause__
    column = ""
    if isinstance(cause, yaml.MarkedYAMLError) and cause.problem_mark is not None:
        column = f", column {cause.problem_mark.column + 1}"
    found = "; ".join(
        f"line {p.line}{column if p.reason.startswith('not valid YAML') else ''}: "
        + p.reason.removeprefix("not valid YAML: ")
        for p in exc.problems
    )
    return SettingsError(f"{chosen}: not valid YAML: {found}")


def _reason(err: Any, source: YamlSource, overridden: set[tuple[str, str]]) -> str:
    """``line N: section.key: what`` (or the environment variable that set it)."""
    loc = tuple(str(part) for part in err["loc"])
    where = ".".join(loc)
    if len(loc) >= 2 and (loc[0], loc[1]) in overridden:
        return f"{ENV_PREFIX}{loc[0].upper()}__{loc[1].upper()}: {where}: {err['msg']}"
    return f"line {source.line_of(loc)}: {where}: {err['msg']}"


def load_settings(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read, merge and validate the settings; raise SettingsError with a clear reason."""
    env = dict(os.environ if environ is None else environ)
    chosen = Path(path or env.get(ENV_PREFIX + "SETTINGS") or DEFAULT_SETTINGS_FILE)
    try:
        with chosen.open("rb") as stream:
            content = stream.read(MAX_SETTINGS_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"{chosen}: cannot read settings: {exc.strerror}") from exc
    if len(content) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"{chosen}: the file is larger than {MAX_SETTINGS_BYTES} bytes")
    try:
        # The same careful reader as the menus: no aliases, no tags, no second document,
        # bounded nesting; problems say the line, never quote the file (it holds secrets).
        source = parse_yaml(content)
    except YamlSourceError as exc:
        if exc.problems != [EMPTY]:
            raise _yaml_refused(chosen, exc) from exc
        source = YamlSource(None)  # empty, or comments only: the defaults
    raw: Any = {} if source.data is None else source.data
    if not isinstance(raw, dict):
        raise SettingsError(f"{chosen}: the settings must be a mapping of sections")
    overridden: set[tuple[str, str]] = set()
    for section, values in _env_overrides(env).items():
        current = raw.setdefault(section, {})
        if not isinstance(current, dict):
            raise SettingsError(f"{chosen}: section {section!r} must be a mapping")
        current.update(values)
        overridden |= {(section, key) for key in values}
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(_reason(err, source, overridden) for err in exc.errors())
        raise SettingsError(f"{chosen}: invalid settings: {reasons}") from exc
    settings.source = str(chosen)
    return settings
