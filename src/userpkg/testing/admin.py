"""`SandboxAdmin`: the operator client a kit sandbox hands out, bound to the sandbox's brand.

SPEC §12 names the calls a test makes (`add_fault(endpoint, kind, **fields)`, `faults()`,
`delete_fault(fault_id)`, …) without a brand: there is one playground brand. Every other
`OperatorClient` method is reachable too, unchanged (`sb.admin.brands()`, `sb.admin.request`).
"""

from __future__ import annotations

from typing import Any

from userpkg.client.operator import OperatorClient


class SandboxAdmin:
    def __init__(self, operator: OperatorClient, brand_id: str) -> None:
        self.operator = operator
        self.brand_id = brand_id

    def add_fault(self, endpoint: str, kind: str, **fields: Any) -> dict[str, Any]:
        """A fault rule for the sandbox's brand, e.g. `add_fault("expand", "error", status=500)`."""
        return self.operator.add_fault(
            self.brand_id, {"endpoint": endpoint, "kind": kind, **fields}
        )

    def faults(self) -> list[dict[str, Any]]:
        """Active rules, the one that applies next first."""
        return self.operator.faults(self.brand_id)

    def delete_fault(self, fault_id: str) -> None:
        self.operator.delete_fault(self.brand_id, fault_id)

    def reset(self) -> dict[str, Any]:
        return self.operator.reset()

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        return self.operator.advance_clock(seconds)

    def member_count(self, package_id: str) -> int:
        return self.operator.member_count(package_id)

    def tasks(self, package_id: str) -> list[dict[str, Any]]:
        return self.operator.tasks(package_id)

    def requests(self, limit: int = 50, **filters: Any) -> list[dict[str, Any]]:
        """The brand's request log, newest first; `fault_id` names the rule that applied."""
        return self.operator.requests(self.brand_id, limit, **filters)

    def close(self) -> None:
        self.operator.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.operator, name)
