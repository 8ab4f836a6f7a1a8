"""HealthFunction through its real handler, with its template environment and the sample event."""

from __future__ import annotations

import json
from typing import Any

from partnerpoints import __version__
from partnerpoints_infra.functions import invoke
from partnerpoints_infra.provision import LocalStack
from partnerpoints_infra.template import PROJECT_ROOT


def sample_event() -> dict[str, Any]:
    return json.loads((PROJECT_ROOT / "events/HealthFunction/get-health.json").read_text())  # type: ignore[no-any-return]


def test_health_answers_ok_with_the_version(moto_stack: LocalStack) -> None:
    response = invoke(moto_stack, "HealthFunction", sample_event())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "version": __version__}


def test_other_methods_get_the_error_body(moto_stack: LocalStack) -> None:
    event = sample_event()
    event["requestContext"]["http"]["method"] = "DELETE"
    response = invoke(moto_stack, "HealthFunction", event)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "route_not_found"
