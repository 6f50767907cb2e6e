"""Settings read from the environment once, at app creation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str
    twilio_auth_token: str | None
    menus_file: Path
    validate_signatures: bool = True
    public_base_url: str | None = None
    proxy_hops: int = 0
    bcrypt_rounds: int = 12
    menu_reload_seconds: float = 1.0
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, instance_path: Path) -> Settings:
        default_db = f"sqlite:///{instance_path / 'ivr.sqlite3'}"
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_db,
            twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
            menus_file=Path(os.environ.get("MENUS_FILE") or ROOT / "menus.yaml"),
            validate_signatures=_flag("TWILIO_VALIDATE_SIGNATURES", True),
            public_base_url=(os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            proxy_hops=int(os.environ.get("PROXY_HOPS") or 0),
            bcrypt_rounds=int(os.environ.get("BCRYPT_ROUNDS") or 12),
            menu_reload_seconds=float(os.environ.get("MENU_RELOAD_SECONDS") or 1.0),
        )
