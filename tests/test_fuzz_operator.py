"""Schemathesis over the operator API's own OpenAPI document, against a live server.

Bounded (a few examples per operation, no deadline) so it runs in CI: every generated
request, valid or not, gets an answer that is not a 5xx, and the content type and schema of
every documented answer match the document. (Error statuses are not all documented per
operation yet, so status-code conformance is left out.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from tests.support import LiveServer


def test_the_operator_api_never_fails_and_answers_as_documented(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {server.service.admin_token}"}
    operations = [
        result.ok() for result in schema.include(path_regex="^/admin/").get_all_operations()
    ]
    assert len(operations) >= 15

    for operation in operations:

        @settings(
            max_examples=8,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                base_url=server.base_url,
                headers=headers,
                checks=[
                    checks.not_a_server_error,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
            )

        fuzz()
