"""Any JSON or form body on the 99 digital and IDResponse routes is answered in the vendor's
shape: never a 500, never the native problem JSON (hypothesis-generated bodies)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.idresponse import CONTINUE, GATEWAY
from support.ninety_nine import CHECK_KEYS, PATH, SEND_KEYS

NINETY_NINE_FIELDS = ["apiKey", "from", "to", "message", "code"]
IDRESPONSE_FIELDS = ["user", "pass", "service", "reference", "options", "target", "token"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["0502345678", "2015106000", "+447123123456", "##code##", "{pin}", "voip"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def json_bodies(names: list[str]) -> st.SearchStrategy[Any]:
    objects = st.dictionaries(st.sampled_from(names) | st.text(max_size=8), json_values, max_size=6)
    return objects | st.lists(objects, min_size=1, max_size=2) | json_values


@FUZZ
@given(body=json_bodies(NINETY_NINE_FIELDS))
def test_ninety_nine_answers_any_json_in_its_shape(client: TestClient, body: Any) -> None:
    answer = client.post(
        PATH, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200
    assert set(answer.json()) in (SEND_KEYS, CHECK_KEYS)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(NINETY_NINE_FIELDS), st.text(max_size=30)))
@example(fields={"apiKey": "\x00"})  # PostgreSQL refuses a NUL: once a 500
def test_ninety_nine_answers_any_form_in_its_shape(
    client: TestClient, fields: dict[str, str]
) -> None:
    answer = client.post(PATH, data=fields)
    assert answer.status_code == 200
    assert set(answer.json()) == (CHECK_KEYS if "code" in fields else SEND_KEYS)


@FUZZ
@given(path=st.sampled_from([GATEWAY, CONTINUE]), body=json_bodies(IDRESPONSE_FIELDS))
def test_idresponse_answers_any_json_in_its_envelope(
    client: TestClient, path: str, body: Any
) -> None:
    answer = client.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert answer.status_code in (200, 401)
    assert list(answer.json()) == ["meta", "result", "output"]
    assert answer.json()["result"]["action"] == "FAIL"


@FUZZ
@given(
    target=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    outofband=st.dictionaries(
        st.sampled_from(["message", "do_not_send_to_types", "country"]), json_values, max_size=3
    ),
)
def test_idresponse_answers_any_options_and_target_of_a_known_key(
    client: TestClient, make_app: Any, target: dict[str, Any], outofband: dict[str, Any]
) -> None:
    app = make_app()
    body = {
        "user": app.key_id,
        "pass": app.secret,
        "service": "PhoneMatch5.0.SMS",
        "options": {"outofband": outofband},
        "target": {"phone": "2015106000", **target},
    }
    answer = client.post(GATEWAY, json=body)
    assert answer.status_code == 200
    assert answer.json()["result"]["action"] in ("PENDING", "FAIL")
