"""The sandbox page's fault rules and reset, over real HTTP as a browser sends its forms: what
the console adds is what the operator API lists and what the brand API then does."""

from __future__ import annotations

import re
import time

import httpx

from .console_support import Sandbox, csrf_of, sandbox

__all__ = ["sandbox"]

FAILED = "USER_PACKAGE_PROCESS_STATE_FAILED"


def rules(box: Sandbox) -> list[dict[str, object]]:
    return list(box.admin("GET", f"/brands/{box.manifest['brand_id']}/faults")["data"])


def upload_through_the_console(box: Sandbox, client: httpx.Client, count: int) -> None:
    csrf = csrf_of(client.get("/console/sandbox").text)
    answer = client.post(
        "/console/sandbox/upload",
        data={
            "csrf": csrf,
            "package_id": box.package_id,
            "data_type": "USER_PACKAGE_DATA_TYPE_OPENID",
        },
        files={"file": ("some.csv", box.openid_csv(box.users(count), []), "text/csv")},
    )
    assert answer.status_code == 303, answer.text
    for _ in range(300):
        if 'id="job-phase">done<' in client.get(answer.headers["location"]).text:
            return
        time.sleep(0.1)
    raise AssertionError(client.get(answer.headers["location"]).text)


def test_a_rule_added_on_the_page_is_the_operator_apis_and_fails_the_next_task(
    sandbox: Sandbox,
) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    added = client.post(
        "/console/sandbox/faults",
        data={
            "csrf": csrf,
            "endpoint": "expand",
            "kind": "task_failed",
            "times": "1",
            "message": "console <b>says</b> no",
        },
    )
    assert added.status_code == 303, added.text
    [rule] = rules(sandbox)
    assert (rule["endpoint"], rule["kind"], rule["remaining"]) == ("expand", "task_failed", 1)
    assert rule["message"] == "console <b>says</b> no"

    page = client.get("/console/sandbox").text
    assert f'data-fault-id="{rule["fault_id"]}"' in page
    assert "console &lt;b&gt;says&lt;/b&gt; no" in page

    upload_through_the_console(sandbox, client, 5)
    tasks = sandbox.admin("GET", f"/user-packages/{sandbox.package_id}/tasks")["data"]
    assert tasks[0]["state"] == FAILED, tasks
    assert tasks[0]["return_message"] == "console <b>says</b> no"
    assert rules(sandbox) == [], "a rule used up its one time"


def test_a_bad_rule_names_the_field_and_adds_nothing(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    for fields, says in (
        ({"endpoint": "expand", "kind": "delay"}, "delay_ms"),
        ({"endpoint": "expand", "kind": "error", "status": "five"}, "status must be a whole"),
        ({"endpoint": "expand", "kind": "error", "status": "200"}, "status"),
        ({"endpoint": "merge_upload", "kind": "task_failed"}, "expand"),
        ({"endpoint": "nowhere", "kind": "drop"}, "endpoint"),
    ):
        answer = client.post("/console/sandbox/faults", data={"csrf": csrf, **fields})
        assert answer.status_code == 400, fields
        alert = re.search(r'id="sandbox-error">([^<]*)<', answer.text)
        assert alert is not None, fields
        assert says in alert.group(1), (fields, alert.group(1))
    assert rules(sandbox) == []


def test_delete_on_the_page_removes_the_rule(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    for kind in ("drop", "bad_signature"):
        added = client.post(
            "/console/sandbox/faults",
            data={"csrf": csrf, "endpoint": "*", "kind": kind, "times": "3"},
        )
        assert added.status_code == 303
    first, second = rules(sandbox)
    deleted = client.post(
        f"/console/sandbox/faults/{first['fault_id']}/delete", data={"csrf": csrf}
    )
    assert deleted.status_code == 303
    assert [r["fault_id"] for r in rules(sandbox)] == [second["fault_id"]]
    again = client.post(f"/console/sandbox/faults/{first['fault_id']}/delete", data={"csrf": csrf})
    assert again.status_code == 404
    assert "not found" in again.text
    client.post(f"/console/sandbox/faults/{second['fault_id']}/delete", data={"csrf": csrf})
    assert rules(sandbox) == []


def test_without_the_csrf_token_rules_and_reset_change_nothing(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    csrf = csrf_of(client.get("/console/sandbox").text)
    client.post(
        "/console/sandbox/faults",
        data={"csrf": csrf, "endpoint": "*", "kind": "drop"},
    )
    [rule] = rules(sandbox)
    members = sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"]
    for path, data in (
        ("/console/sandbox/faults", {"endpoint": "*", "kind": "drop"}),
        (f"/console/sandbox/faults/{rule['fault_id']}/delete", {}),
        ("/console/sandbox/reset", {"confirm": "yes"}),
    ):
        assert client.post(path, data=data).status_code == 403, path
        forged = client.post(path, data={**data, "csrf": "0" * 64})
        assert forged.status_code == 403, path
    assert rules(sandbox) == [rule]
    assert sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"] == members
    client.post(f"/console/sandbox/faults/{rule['fault_id']}/delete", data={"csrf": csrf})


def test_reset_needs_its_box_ticked_then_empties_packages_and_rules(sandbox: Sandbox) -> None:
    client = sandbox.signed_in()
    upload_through_the_console(sandbox, client, 7)
    assert sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"] > 0
    csrf = csrf_of(client.get("/console/sandbox").text)
    client.post("/console/sandbox/faults", data={"csrf": csrf, "endpoint": "*", "kind": "drop"})
    client.post("/console/sandbox/clock", data={"csrf": csrf, "seconds": "86400"})

    unticked = client.post("/console/sandbox/reset", data={"csrf": csrf})
    assert unticked.status_code == 400
    assert "confirm" in unticked.text
    assert sandbox.admin("GET", f"/user-packages/{sandbox.package_id}")["member_count"] > 0

    done = client.post("/console/sandbox/reset", data={"csrf": csrf, "confirm": "yes"})
    assert done.status_code == 200
    assert "packages emptied" in done.text
    for package in sandbox.manifest["user_packages"]:
        view = sandbox.admin("GET", f"/user-packages/{package['user_package_id']}")
        assert view["member_count"] == 0
        assert (
            sandbox.admin("GET", f"/user-packages/{package['user_package_id']}/tasks")["data"] == []
        )
    assert rules(sandbox) == []
    assert sandbox.admin("GET", "/clock")["offset_seconds"] == 0
    assert 'id="no-faults"' in client.get("/console/sandbox").text
