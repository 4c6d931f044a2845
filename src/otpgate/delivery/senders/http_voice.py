"""Calls through a generic HTTP voice gateway: the http SMS gateway's templated request with
the call's `{speech}` and `{language}`; its status callbacks come to the http receipt route."""

from __future__ import annotations

from otpgate.delivery.protocol import OutgoingCall, SendReceipt
from otpgate.delivery.senders.http import NAME, HttpGatewayConfig, HttpGatewaySender

DEFAULT_CALL_BODIES = {
    "json": '{"to": "{to}", "from": "{sender}", "speech": "{speech}", "language": "{language}", '
    '"reference": "{message_id}"}',
    "form": "to={to}&from={sender}&speech={speech}&language={language}&reference={message_id}",
}


class HttpCallSender:
    name = NAME

    def __init__(self, config: HttpGatewayConfig, caller_id: str | None) -> None:
        self._gateway = HttpGatewaySender(config)
        self._caller_id = caller_id

    async def call(self, call: OutgoingCall) -> SendReceipt:
        values = {
            "to": call.to,
            "to_digits": call.to.lstrip("+"),
            "sender": call.caller_id or self._caller_id or "",
            "body": call.speech,  # so an SMS gateway's body template speaks it too
            "speech": call.speech,
            "language": call.language,
            "message_id": call.message_id,
        }
        return await self._gateway.deliver(values)

    async def close(self) -> None:
        await self._gateway.close()
