"""Finding 3: a secret file in the data folder that is empty or short (a crash between create
and write) stops the start with a line naming it, instead of making any Basic header admin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.served import OTPGATE, StartOtpgate, clean_environment


def serve_once(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OTPGATE, "serve", "--port", "1"],  # it must stop before it would listen
        env=clean_environment(data_dir),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("name", "content"), [("admin_token", ""), ("secret_key", "short\n")])
def test_a_secret_file_that_is_empty_or_short_stops_the_start(
    tmp_path: Path, name: str, content: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / name).write_text(content)
    finished = serve_once(data_dir)
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and str(data_dir / name) in lines[0], finished.stderr
    assert (data_dir / name).read_text() == content  # left for the operator to look at


def test_generated_secrets_are_whole_and_no_temporary_file_is_left(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate()
    assert served.first_start is not None
    assert (served.data_dir / "admin_token").read_text().strip() == served.first_start[
        "admin_token"
    ]
    assert len((served.data_dir / "secret_key").read_text().strip()) >= 32
    assert not [path for path in served.data_dir.iterdir() if path.name.startswith(".")]
    # the admin token is the admin, and an empty Basic password is nobody
    assert served.http.get("/v1/apps", auth=("", "")).status_code == 401
    assert served.http.get("/v1/apps", headers=served.admin_headers).status_code == 200
