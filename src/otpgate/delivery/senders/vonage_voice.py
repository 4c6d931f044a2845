"""Vonage's Voice API: `POST /v1/calls` with an NCCO whose `talk` action says the code in
the message's language; call events come to the Vonage receipt route, JWT-signed."""

from __future__ import annotations

from dataclasses import dataclass

from otpgate.delivery.protocol import OutgoingCall, SendReceipt, TransientSendError
from otpgate.delivery.senders.vonage import NAME
from otpgate.delivery.senders.vonage_application import (
    VonageApplicationClient,
    VonageApplicationConfig,
)


@dataclass(frozen=True)
class VonageCallConfig:
    application: VonageApplicationConfig
    caller_id: str  # a number of the application, E.164
    event_url: str | None


def digits(number: str) -> str:
    """Vonage's numbers are E.164 without the `+`."""
    return number.lstrip("+")


class VonageCallSender:
    name = NAME

    def __init__(self, config: VonageCallConfig) -> None:
        self._config = config
        self._client = VonageApplicationClient(config.application)

    async def call(self, call: OutgoingCall) -> SendReceipt:
        # an app's sender may be an alphanumeric SMS sender id, which no call can come from
        caller = call.caller_id if (call.caller_id or "").startswith("+") else None
        document: dict[str, object] = {
            "to": [{"type": "phone", "number": digits(call.to)}],
            "from": {"type": "phone", "number": digits(caller or self._config.caller_id)},
            "ncco": [{"action": "talk", "text": call.speech, "language": call.language}],
        }
        if self._config.event_url:
            document["event_url"] = [self._config.event_url]
            document["event_method"] = "POST"
        created = await self._client.post("/v1/calls", document, accepted=201)
        uuid = created.get("uuid")
        if not isinstance(uuid, str):
            raise TransientSendError("vonage answered without the call's uuid")
        return SendReceipt(provider_message_id=uuid)

    async def close(self) -> None:
        await self._client.close()
