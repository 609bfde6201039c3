"""Asterisk configuration that follows from the engine's settings.

The engine depends on two pieces of Asterisk configuration: the AMI user it logs in as
(``manager.conf``) and the dialplan globals that point calls at its FastAGI port and name
the fallback destination (``ivr_globals.conf``). Both are rendered from the settings so the
two sides can never disagree, and ``check_asterisk_conf`` reads an Asterisk configuration
directory back with pyst2's parser to confirm it matches.
"""

from __future__ import annotations

from pathlib import Path

from asterisk.config import Config, ParseError  # pyst2

from ivr_engine.settings import Settings

AMI_READ = "system,call,agent,user,agi,dialplan,reporting"
AMI_WRITE = "system,call,agent,user,originate,command,reporting"


def render_manager_conf(settings: Settings) -> str:
    ami = settings.ami
    return "\n".join(
        [
            "; Rendered from the engine's settings: edit config/engine.yaml, not this file.",
            "[general]",
            "enabled = yes",
            f"port = {ami.port}",
            f"bindaddr = {ami.host}",
            "displayconnects = no",
            "",
            f"[{ami.username}]",
            f"secret = {ami.secret.get_secret_value()}",
            "deny = 0.0.0.0/0.0.0.0",
            "permit = 127.0.0.1/255.255.255.255",
            f"read = {AMI_READ}",
            f"write = {AMI_WRITE}",
            "writetimeout = 5000",
            "",
        ]
    )


def render_globals_conf(settings: Settings) -> str:
    agi_host = "127.0.0.1" if settings.agi.host in ("0.0.0.0", "") else settings.agi.host
    return "\n".join(
        [
            "; Rendered from the engine's settings: edit config/engine.yaml, not this file.",
            f"IVR_AGI_HOST={agi_host}",
            f"IVR_AGI_PORT={settings.agi.port}",
            f"IVR_FALLBACK={settings.fallback.destination}",
            f"IVR_FALLBACK_RING={settings.fallback.ring_timeout}",
            "",
        ]
    )


def _read(path: Path) -> Config:
    try:
        return Config(str(path))
    except (OSError, ParseError) as exc:
        raise ValueError(f"{path}: cannot parse: {exc}") from exc


def check_asterisk_conf(conf_dir: Path, settings: Settings) -> list[str]:
    """Return the problems found between an Asterisk config directory and the settings."""
    problems: list[str] = []
    manager = conf_dir / "manager.conf"
    if not manager.exists():
        return [f"{manager}: missing"]
    cfg = _read(manager)
    general = {item.name: item.value for item in cfg.categories[0].items} if cfg.categories else {}
    if general.get("enabled") != "yes":
        problems.append(f"{manager}: [general] enabled must be yes")
    if general.get("port") != str(settings.ami.port):
        problems.append(f"{manager}: port {general.get('port')} != settings {settings.ami.port}")
    users = {cat.name: {i.name: i.value for i in cat.items} for cat in cfg.categories[1:]}
    user = users.get(settings.ami.username)
    if user is None:
        problems.append(f"{manager}: no AMI user [{settings.ami.username}]")
    elif user.get("secret") != settings.ami.secret.get_secret_value():
        problems.append(f"{manager}: the secret of [{settings.ami.username}] differs from settings")
    globals_file = conf_dir / "ivr_globals.conf"
    if not globals_file.exists():
        problems.append(f"{globals_file}: missing")
    else:
        values = dict(
            line.split("=", 1)
            for line in globals_file.read_text().splitlines()
            if "=" in line and not line.startswith(";")
        )
        if values.get("IVR_AGI_PORT") != str(settings.agi.port):
            problems.append(
                f"{globals_file}: IVR_AGI_PORT differs from settings {settings.agi.port}"
            )
    return problems
