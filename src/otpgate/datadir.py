"""The data folder: generated secrets live here, readable by the owner only."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from otpgate.config import ConfigError

# as long as the settings that can replace them must be (OTPGATE_SECRET_KEY, _ADMIN_TOKEN)
SECRET_KEY_MIN_LENGTH = 32
ADMIN_TOKEN_MIN_LENGTH = 16


@dataclass(frozen=True)
class Secrets:
    secret_key: str
    admin_token: str
    admin_token_generated: bool  # True only on the start that created it: print it then


def load_or_create_secrets(
    data_dir: Path, secret_key: str | None, admin_token: str | None
) -> Secrets:
    make_private_folder(data_dir)
    key, _ = (
        (secret_key, False)
        if secret_key
        else _read_or_create(data_dir / "secret_key", SECRET_KEY_MIN_LENGTH, "OTPGATE_SECRET_KEY")
    )
    token, created = (
        (admin_token, False)
        if admin_token
        else _read_or_create(
            data_dir / "admin_token", ADMIN_TOKEN_MIN_LENGTH, "OTPGATE_ADMIN_TOKEN"
        )
    )
    return Secrets(secret_key=key, admin_token=token, admin_token_generated=created)


def make_private_folder(data_dir: Path) -> None:
    """The folder, readable by its owner only: the database in it holds webhook secrets."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir.stat().st_uid == os.geteuid():
        data_dir.chmod(0o700)  # one an earlier version made under the umask (0755)


def _read_or_create(path: Path, min_length: int, setting: str) -> tuple[str, bool]:
    try:
        return _read(path, min_length, setting), False
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(32)
    # written whole under a temporary name, then linked into place: no process ever reads
    # the file half-written, and a link fails if another process's file got there first
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(value + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process won the race; use its value
            return _read(path, min_length, setting), False
    finally:
        temporary.unlink()
    return value, True


def _read(path: Path, min_length: int, setting: str) -> str:
    value = path.read_text().strip()
    if len(value) < min_length:
        raise ConfigError(
            f"{path}: the secret in it is {'empty' if not value else 'too short'} "
            f"(at least {min_length} characters); delete the file to generate a new one, "
            f"or set {setting}"
        )
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.geteuid():
        path.chmod(0o600)
    return value
