"""Reading the vendors' printed samples (curl, C# RestSharp, Java Unirest, jQuery, PHP) as the
HTTP request each one makes, so a test can send exactly that to a real server.

Only the vendor's host is replaced (by the server under test) and the credential placeholders
(`#USER#`, `#USERNAME#`, `#PASSWORD#`, `userName`/`username`, `password`) by a real key id and
secret. Where a sample cannot run as printed, the reading is the one its author meant, and the
function says so.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class SampleRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def with_path(self, old: str, new: str) -> SampleRequest:
        return SampleRequest(self.method, self.path.replace(old, new), self.headers, self.body)

    def with_body(self, body: bytes) -> SampleRequest:
        return SampleRequest(self.method, self.path, self.headers, body)


def _basic(key_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()


def _path(url: str) -> str:
    return urlsplit(url).path


def from_curl(snippet: str, key_id: str, secret: str) -> SampleRequest:
    """`-user a:b` is read as `--user a:b` (real curl would read `-u ser`, then take `a:b` for
    a URL). One sample lost the line that opened its `-d '{`, leaving `}' 'URL'`: it is read
    as the GET without a body that remains."""
    text = snippet.replace("\\\n", " ")
    if "-d '" not in text:
        text = re.sub(r"\n\}' '", " '", text)
    words = shlex.split(text)
    request = SampleRequest(method="GET", path="")
    position = 1
    while position < len(words):
        word = words[position]
        if word == "-X":
            request.method = words[position + 1]
            position += 1
        elif word == "-H":
            name, _, value = words[position + 1].partition(":")
            request.headers[name.strip()] = value.strip()
            position += 1
        elif word == "-d":
            request.body = words[position + 1].encode()
            position += 1
        elif word in ("-user", "--user", "-u"):
            user, _, _password = words[position + 1].partition(":")
            assert user == "#USER#", user
            request.headers["Authorization"] = _basic(key_id, secret)
            position += 1
        elif word.startswith("http"):
            request.path = _path(word)
        position += 1
    return request


_CSHARP_PROPERTY = re.compile(r'(\w+) = "([^"]*)"')


def from_csharp(snippet: str, key_id: str, secret: str) -> SampleRequest:
    """RestSharp: `AddJsonBody` of an anonymous object (or a one-element array of one) is
    its JSON; `string.Format(url, requestId)` fills in the `new Guid("…")`."""
    url = re.search(r'RestClient\((?:string\.Format\()?"([^"]+)"', snippet)
    assert url, snippet
    path = _path(url.group(1))
    guid = re.search(r'new Guid\("([^"]+)"\)', snippet)
    if guid:
        path = path.replace("{0}", guid.group(1))
    method = "POST" if "Method.POST" in snippet or "client.Post(" in snippet else "GET"
    fields = dict(_CSHARP_PROPERTY.findall(snippet))
    body: object = [fields] if "new[]" in snippet else fields
    headers = {"Content-Type": "application/json"}
    if "HttpBasicAuthenticator(" in snippet:
        headers["Authorization"] = _basic(key_id, secret)
    return SampleRequest(method, path, headers, json.dumps(body).encode())


def from_java(snippet: str, key_id: str, secret: str) -> SampleRequest:
    """Unirest: the `.body("…")` is a Java string literal, whose escapes are JSON's."""
    call = re.search(r'Unirest\.(post|get)\("([^"]+)"\)', snippet)
    assert call, snippet
    headers = dict(re.findall(r'\.header\("([^"]+)", "([^"]*)"\)', snippet))
    if ".basicAuth(" in snippet:
        headers["Authorization"] = _basic(key_id, secret)
    literal = re.search(r'\.body\(("(?:[^"\\]|\\.)*")\)', snippet)
    body = json.loads(literal.group(1)).encode() if literal else None
    return SampleRequest(call.group(1).upper(), _path(call.group(2)), headers, body)


def from_jquery(snippet: str, key_id: str, secret: str) -> SampleRequest:
    """`$.ajax(settings)`: its url, method, headers (the credentials as `username` and
    `password` headers) and `data`. The send sample's `var messages = {…}];` is not valid
    JavaScript; it is read as the one-element array `[{…}]` its closing bracket asks for."""
    url = re.search(r'"url": "([^"]+)"', snippet)
    method = re.search(r'"method": "(\w+)"', snippet)
    header_block = re.search(r'"headers": \{(.*?)\}', snippet, re.S)
    assert url and method and header_block, snippet
    headers = dict(re.findall(r'"([\w-]+)": "([^"]*)"', header_block.group(1)))
    headers = {
        name: {"#USERNAME#": key_id, "#PASSWORD#": secret}.get(value, value)
        for name, value in headers.items()
    }
    body = None
    data = re.search(r"var messages = (.*?);\n", snippet, re.S)
    if data and '"data": messages' in snippet:
        text = data.group(1)
        if text.rstrip().endswith("}]") and not text.lstrip().startswith("["):
            text = "[" + text
        body = text.encode()
    return SampleRequest(method.group(1), _path(url.group(1)), headers, body)


def from_php(snippet: str, key_id: str, secret: str) -> SampleRequest:
    """pecl_http's HttpRequest: setUrl, setMethod, setHeaders (the `authorization` entry is
    Basic of `$username:$password`; the array misses a comma after it, read as meant) and
    setBody (a single-quoted PHP string, taken as it is)."""
    url = re.search(r"setUrl\('([^']+)'\)", snippet)
    method = re.search(r"setMethod\(HTTP_METH_(\w+)\)", snippet)
    assert url and method, snippet
    header_block = re.search(r"setHeaders\(array\((.*?)\)\);", snippet, re.S)
    headers = {}
    if header_block:
        for name, value in re.findall(r"'([\w-]+)' => '([^']*)'", header_block.group(1)):
            headers[name] = value
        if 'base64_encode("$username:$password")' in header_block.group(1):
            headers["authorization"] = _basic(key_id, secret)
    body = re.search(r"setBody\('(.*?)'\);", snippet, re.S)
    return SampleRequest(
        method.group(1),
        _path(url.group(1)),
        headers,
        body.group(1).encode() if body else None,
    )
