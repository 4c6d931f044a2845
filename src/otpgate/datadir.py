"""The data folder: generated secrets live here, readable by the owner only."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Secrets:
    secret_key: str
    admin_token: str
    admin_token_generated: bool  # True only on the start that created it: print it then


def load_or_create_secrets(
    data_dir: Path, secret_key: str | None, admin_token: str | None
) -> Secrets:
    data_dir.mkdir(parents=True, exist_ok=True)
    key, _ = (secret_key, False) if secret_key else _read_or_create(data_dir / "secret_key")
    token, created = (
        (admin_token, False) if admin_token else _read_or_create(data_dir / "admin_token")
    )
    return Secrets(secret_key=key, admin_token=token, admin_token_generated=created)


def _read_or_create(path: Path) -> tuple[str, bool]:
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its value
        return path.read_text().strip(), False
    with os.fdopen(descriptor, "w") as file:
        file.write(value + "\n")
    return value, True
