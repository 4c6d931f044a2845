"""Twilio's Calls API: a call whose inline TwiML says the code in the message's language;
its status callbacks come to the Twilio receipt route (twilio.TwilioReceiptReader)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

from otpgate.delivery.protocol import OutgoingCall, SendReceipt
from otpgate.delivery.senders.twilio import NAME, TwilioAccount


def twiml(speech: str, language: str) -> str:
    """`<Response><Say language="…">speech</Say></Response>`, escaped by the XML writer."""
    response = ElementTree.Element("Response")
    say = ElementTree.SubElement(response, "Say", language=language)
    say.text = speech
    return ElementTree.tostring(response, encoding="unicode")


@dataclass(frozen=True)
class TwilioCallConfig:
    account_sid: str
    auth_token: str
    caller_id: str  # a Twilio number or a verified caller id
    base_url: str
    status_callback: str | None
    timeout_seconds: float = 10.0


class TwilioCallSender:
    name = NAME

    def __init__(self, config: TwilioCallConfig) -> None:
        self._config = config
        self._account = TwilioAccount(
            config.account_sid, config.auth_token, config.base_url, config.timeout_seconds
        )

    async def call(self, call: OutgoingCall) -> SendReceipt:
        # an app's sender may be an alphanumeric SMS sender id, which no call can come from
        caller = call.caller_id if (call.caller_id or "").startswith("+") else None
        form = {
            "To": call.to,
            "From": caller or self._config.caller_id,
            "Twiml": twiml(call.speech, call.language),
        }
        if self._config.status_callback:
            # no StatusCallbackEvent: its default, `completed`, is the one callback we need,
            # and its CallStatus the last word (completed, busy, no-answer, failed, canceled)
            form["StatusCallback"] = self._config.status_callback
        sid = await self._account.create("Calls", form)
        return SendReceipt(provider_message_id=sid)

    async def close(self) -> None:
        await self._account.close()
