"""Prism answers a request with the first example of the operation unless the request names
another (`Prefer: example=<name>`). Our lookups never name one, so this peer stands in front
of Prism and names the example of Twilio's spec that the number's last four digits stand for;
the request is otherwise forwarded as it came (Prism validates it) and Prism's answer returned
as it is."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from peers.httpfake import Answer, FakeHttpPeer, Seen


class ExampleChooser(FakeHttpPeer):
    def __init__(self, prism_url: str, examples: Mapping[str, str]) -> None:
        super().__init__()
        self.prism_url = prism_url
        self.examples = examples
        self.answers: list[int] = []  # the status Prism gave each request

    def handle(self, request: Seen) -> Answer:
        headers = {
            name: value
            for name, value in request.headers.items()
            if name in ("authorization", "accept")
        }
        example = self.examples.get(request.path[-4:])
        if example is not None:
            headers["prefer"] = f"example={example}"
        answer = httpx.get(
            self.prism_url + request.path, params=request.query, headers=headers, timeout=10
        )
        self.answers.append(answer.status_code)
        return Answer(answer.status_code, answer.content)
