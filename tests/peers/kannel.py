"""Kannel (Debian's `kannel`) as a real generic HTTP gateway: smsbox's sendsms takes our
request, bearerbox relays it over SMPP to the SMSC simulator, and Kannel calls our `dlr-url`
back for each delivery report. Stop it before the simulator: bearerbox has been seen to
ignore SIGTERM for a long time once its SMSC is gone, so it gets SIGKILL after a while."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from peers.otpgate import reserve_port

CONFIG = """\
group = core
admin-port = {admin_port}
admin-password = kannel-admin
admin-interface = 127.0.0.1
smsbox-port = {smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{folder}/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = kannel
smsc-password = kannel
msg-id-type = 0x03
system-type = "otp"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{folder}/smsbox.log"
log-level = 1

group = sendsms-user
username = otp
password = otppwd
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "unused"
catch-all = true
"""


def installed() -> bool:
    return shutil.which("bearerbox") is not None and shutil.which("smsbox") is not None


def _free_port() -> int:
    sock = reserve_port()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port} after {timeout}s") from None
            time.sleep(0.05)


class Kannel:
    def __init__(self, folder: Path, smsc_port: int) -> None:
        self.folder = folder
        self.smsbox_port = _free_port()
        self.sendsms_port = _free_port()
        self.config = folder / "kannel.conf"
        self.config.write_text(
            CONFIG.format(
                admin_port=_free_port(),
                smsbox_port=self.smsbox_port,
                sendsms_port=self.sendsms_port,
                smsc_port=smsc_port,
                folder=folder,
            )
        )
        self.url = f"http://127.0.0.1:{self.sendsms_port}"
        self._boxes: list[subprocess.Popen[bytes]] = []

    def start(self) -> Kannel:
        self._boxes.append(self._spawn("bearerbox"))
        _wait_for_port(self.smsbox_port, 10)
        self._boxes.append(self._spawn("smsbox"))
        _wait_for_port(self.sendsms_port, 10)
        return self

    def _spawn(self, box: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [box, str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"{box}.stderr").open("wb"),
        )

    def stop(self) -> None:
        for box in reversed(self._boxes):  # smsbox, then bearerbox
            if box.poll() is None:
                box.terminate()
                try:
                    box.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    box.kill()
                    box.wait(timeout=5)
        self._boxes.clear()
