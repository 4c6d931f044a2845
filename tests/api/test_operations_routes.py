"""Health, readiness, metrics, the OpenAPI document and the error page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from peers.otpgate import wait_until
from support.native import NativeApi
from support.outbox import wrong_code

# every route of shared/api/native.md, and the delivery routes docs/api.md adds
CONTRACT_ROUTES = {
    ("/v1/verifications", "post"),
    ("/v1/verifications", "get"),
    ("/v1/verifications/{verification_id}", "get"),
    ("/v1/verifications/{verification_id}/check", "post"),
    ("/v1/verifications/{verification_id}/cancel", "post"),
    ("/v1/verifications/{verification_id}/next", "post"),
    ("/v1/verification-checks", "post"),
    ("/v1/lookups/{number}", "get"),
    ("/v1/apps", "post"),
    ("/v1/apps", "get"),
    ("/v1/apps/{app_id}", "get"),
    ("/v1/apps/{app_id}", "patch"),
    ("/v1/apps/{app_id}/keys", "post"),
    ("/v1/apps/{app_id}/keys/{key_id}", "delete"),
    ("/v1/dev/outbox", "get"),
    ("/v1/analytics/summary", "get"),
    ("/v1/analytics/providers", "get"),
    ("/v1/locales", "get"),
    ("/v1/apps/{app_id}/message-preview", "post"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/metrics", "get"),
}
DELIVERY_ROUTES = {
    ("/v1/verifications/{verification_id}/messages", "get"),
    ("/v1/receipts/{provider}", "get"),
    ("/v1/receipts/{provider}", "post"),
    ("/v1/apps/{app_id}/webhook-secret", "get"),
    ("/v1/apps/{app_id}/webhook-secret", "post"),
}
# the native side of SessionM's opt-ins (docs/compat/sessionm.md)
OPT_IN_ROUTES = {("/v1/opt-ins", "get")}
ABUSE_ROUTES = {
    ("/v1/apps/{app_id}/blocks", "get"),
    ("/v1/apps/{app_id}/blocks/{block_id}", "delete"),
}
ERROR_CODES = [
    "validation_error", "invalid_phone_number", "country_blocked", "line_type_blocked",
    "invalid_template", "invalid_sender", "unauthorized", "forbidden", "not_found",
    "not_pending", "rate_limited", "payload_too_large", "unsupported_media_type",
    "idempotency_conflict", "method_not_allowed", "fraud_blocked",
]  # fmt: skip


def test_health_and_readiness_answer_without_credentials(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_the_openapi_document_describes_exactly_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    served = {(path, method) for path, methods in paths.items() for method in methods}
    assert served == CONTRACT_ROUTES | DELIVERY_ROUTES | OPT_IN_ROUTES | ABUSE_ROUTES


def test_the_openapi_document_shows_the_create_fields_of_the_contract(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    create = document["components"]["schemas"]["StartVerification"]
    assert set(create["properties"]) == {
        "to", "channel", "workflow", "country", "template", "sender", "code_length",
        "ttl_seconds", "locale", "external_id", "reference", "idempotency_key", "end_user_ip",
    }  # fmt: skip
    assert create["required"] == ["to"]


def test_the_openapi_document_offers_bearer_and_basic_on_every_app_route(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert (schemes["HTTPBearer"]["scheme"], schemes["HTTPBasic"]["scheme"]) == ("bearer", "basic")
    keyed = {
        (path, method): operation["security"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/v1/") and not path.startswith("/v1/receipts/")
    }
    assert keyed, "no app routes described"
    assert all(
        security == [{"HTTPBearer": []}, {"HTTPBasic": []}] for security in keyed.values()
    ), keyed


def test_the_plain_routes_declare_bodies_answers_errors_and_security(client: TestClient) -> None:
    """Start, check and the outbox read are plain Starlette endpoints; their declared
    operations say as much as FastAPI derives for its own routes."""
    document = client.get("/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    check = paths["/v1/verifications/{verification_id}/check"]["post"]
    body = check["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CheckCode"}
    assert set(schemas["CheckCode"]["properties"]) == {"code", "end_user_ip"}
    assert check["parameters"][0]["schema"]["maxLength"] == 64
    assert {"200", "400", "401", "404", "409", "429"} <= set(check["responses"])
    answer = check["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/CheckOut"}
    refusal = check["responses"]["429"]["content"]["application/problem+json"]["schema"]
    assert refusal == {"$ref": "#/components/schemas/Problem"}
    start = paths["/v1/verifications"]["post"]
    assert {"200", "201", "400", "401", "403", "409", "413", "415", "429"} <= set(
        start["responses"]
    )
    outbox = paths["/v1/dev/outbox"]["get"]
    assert "requestBody" not in outbox
    assert {p["name"]: (p["in"], p["required"]) for p in outbox["parameters"]} == {
        "to": ("query", False),
        "limit": ("query", False),
    }
    limit = next(p for p in outbox["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    read = outbox["responses"]["200"]["content"]["application/json"]["schema"]
    assert read == {"$ref": "#/components/schemas/OutboxOut"}
    assert "OutboxOut" in schemas
    for operation in (start, check, outbox):
        assert operation["security"] == [{"HTTPBearer": []}, {"HTTPBasic": []}]
    assert start["tags"] == check["tags"] == ["verifications"]


def test_the_docs_page_renders_the_openapi_document(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text


def test_every_problem_type_points_at_an_anchor_of_the_error_page(client: TestClient) -> None:
    page = client.get("/docs/errors").text
    for code in ERROR_CODES:
        assert f'id="{code}"' in page, code


def test_metrics_count_verifications_checks_messages_and_request_latency(
    api: NativeApi, client: TestClient
) -> None:
    verification = api.started()
    code = api.code_of(verification)
    api.check(verification["id"], wrong_code(code))
    api.check(verification["id"], code)
    # the outbox shows the message at the 201; the worker counts its delivery after recording it
    metrics = wait_until(
        lambda: client.get("/metrics"),
        lambda answer: re.search(r'otpgate_messages_total\{status="delivered"\}', answer.text),
        10,
        what="the worker to count the delivery",
    )
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert re.search(
        r'otpgate_verifications_total\{app="app_\w+",country="GB",status="pending"\} 1', text
    )
    assert re.search(
        r'otpgate_verifications_total\{app="app_\w+",country="GB",status="approved"\} 1', text
    )
    assert 'otpgate_checks_total{outcome="wrong_code"} 1.0' in text
    assert 'otpgate_checks_total{outcome="approved"} 1.0' in text
    assert re.search(r'otpgate_messages_total\{status="delivered"\} 1', text)
    latency = (
        r'otpgate_http_request_duration_seconds_bucket\{le="[0-9.]+",method="POST",'
        r'route="/v1/verifications/\{verification_id\}/check",status="200"\}'
    )
    assert re.search(latency, text)
    assert verification["to"] not in text and verification["to"][1:] not in text
    assert code not in re.sub(r"[0-9]+\.[0-9]+(e[-+][0-9]+)?", "", text)  # sums and buckets


def test_every_answer_carries_a_request_id_and_echoes_the_callers(client: TestClient) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", client.get("/healthz").headers["x-request-id"])
    echoed = client.get("/v1/nothing", headers={"X-Request-Id": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
