"""The OpenAPI document at `/openapi.json` against the served API: generated requests (schemathesis,
bounded) never get a 5xx, and every answer matches the documented status codes and schemas."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_url

from tests.integration.api_fixtures import API_KEY, api_port, producer_api

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: Fuzzing only: the coverage phase walks every boundary of every field (hundreds of requests for the
#: message union), far beyond this test's time budget.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(producer_api: str) -> schemathesis.BaseSchema:
    return from_url(f"{producer_api}/openapi.json", config=CONFIG).include(
        path_regex=r"^/(v1/messages|v1/campaigns$|v1/campaigns/\{campaign_id\}$|healthz)"
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
# Bounded: a handful of examples per operation keeps this to seconds; derandomized, so a failure repeats.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)
def test_generated_requests_never_5xx_and_conform_to_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=10)


def test_the_document_names_the_security_scheme_and_the_error_schema(producer_api: str) -> None:
    document = requests.get(f"{producer_api}/openapi.json", timeout=5).json()

    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    send = document["paths"]["/v1/messages"]["post"]
    assert send["security"] == [{"HTTPBearer": []}]
    for status in ("401", "422"):
        schema_ref = send["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert schema_ref == "#/components/schemas/ErrorResponse"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert not any("callbacks" in path for path in document["paths"])
