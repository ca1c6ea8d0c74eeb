"""Operations on provisioning requests (issue 10): `idp provisioning list|cancel`, and `idp housekeeping`
expiring requests after 7 days and keeping no patient details once a request is over."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from proofing.journey_support import case
from provisioning.conftest import API, body_for


def test_list_filters_by_ods_code_and_status_and_cancel_stops_a_request(app, staff_system):
    system = staff_system(ods_codes=["A12345", "B86001"])
    first = system.provision(body_for(case("hyphenated_family_name"))).get_json()["provisioning_id"]
    second = system.provision(body_for(case("apostrophe_family_name"), ods_code="B86001")).get_json()["provisioning_id"]
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["provisioning", "list", "--ods-code", "b86001"]).output
    assert second in listed and first not in listed and "pending" in listed
    assert case("apostrophe_family_name")["nhs_number"] not in listed  # ids and statuses, no personal data
    cancelled = runner.invoke(args=["provisioning", "cancel", first])
    assert cancelled.exit_code == 0 and f"cancelled {first}" in cancelled.output
    assert system.call("GET", f"{API}/{first}").get_json()["status"] == "cancelled"
    again = runner.invoke(args=["provisioning", "cancel", first])
    assert again.exit_code != 0 and "only a pending request can be cancelled" in again.output
    assert runner.invoke(args=["provisioning", "cancel", "no-such-request"]).exit_code != 0
    pending = [json.loads(line) for line in
               runner.invoke(args=["provisioning", "list", "--status", "pending", "--json"]).output.splitlines()]
    assert [row["provisioning_id"] for row in pending] == [second]
    from idp.models import ProvisioningAuditEvent

    with app.app_context():
        assert ProvisioningAuditEvent.query.filter_by(operation="cancel", provisioning_id=first).count() == 2


def test_housekeeping_expires_requests_after_7_days_and_forgets_the_patients_details(app, system):
    someone = case("several_given_names")
    start = datetime.now(timezone.utc)
    with freeze_time(start):
        made = system.provision(body_for(someone)).get_json()["provisioning_id"]
    runner = app.test_cli_runner()
    with freeze_time(start + timedelta(days=6)):
        assert "expired_provisioning_requests: 0" in runner.invoke(args=["housekeeping"]).output
    with freeze_time(start + timedelta(days=7, seconds=1)):
        assert "expired_provisioning_requests: 1" in runner.invoke(args=["housekeeping"]).output
    from idp.extensions import db
    from idp.models import ProvisioningRequest

    with app.app_context():
        row = db.session.get(ProvisioningRequest, made)
        assert row.status == "expired"
        assert (row.email, row.phone_number, row.birthdate, row.nhs_number) == ("", "", "", "")
    assert system.call("GET", f"{API}/{made}").get_json()["status"] == "expired"
