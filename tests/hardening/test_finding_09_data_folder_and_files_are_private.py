"""Finding 9: the data folder is 0700 and every file in it (the database with its WAL and
shared-memory files, the secrets) 0600, whatever the umask."""

from __future__ import annotations

import stat

from support.served import StartOtpgate


def mode(path: object) -> int:
    return stat.S_IMODE(path.stat().st_mode)  # type: ignore[attr-defined]


def test_the_data_folder_and_every_file_in_it_are_the_owners_only(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate()  # under this runner's umask (022: folders 0755, files 0644)
    key = served.default_app()
    assert key.start().status_code == 201  # the database has written its WAL
    assert mode(served.data_dir) == 0o700
    files = sorted(path.name for path in served.data_dir.iterdir())
    assert {"otpgate.db", "otpgate.db-wal", "secret_key", "admin_token"} <= set(files), files
    assert {name: mode(served.data_dir / name) for name in files} == dict.fromkeys(files, 0o600)


def test_files_an_earlier_version_left_readable_are_narrowed_at_start(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate()
    served.stop()
    served.data_dir.chmod(0o755)
    for path in served.data_dir.iterdir():
        path.chmod(0o644)
    again = start_otpgate(data_dir=served.data_dir)
    assert mode(again.data_dir) == 0o700
    assert {mode(path) for path in again.data_dir.iterdir()} == {0o600}
