"""The per-ODS-code rate limit holds across processes (issue 10): two provider processes on one database
(PostgreSQL in the suite's second run, SQLite in the first) share one count, as machines behind a load
balancer would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from proofing.journey_support import case
from provisioning.conftest import API, body_for

LIMIT, CALLS_EACH = 6, 6
REPO = Path(__file__).resolve().parents[2]
# Each process is an app of its own (its own engine and connections) on the test's database; it waits for the
# start file so both send together, then prints the codes it was answered with.
WORKER = """
import json, sys, time
from pathlib import Path
sys.path[:0] = [{repo!r}, {tests!r}]
from support import make_app
app = make_app({url!r}, {instance!r}, IDP_PROVISIONING_REQUESTS_PER_ODS_CODE={limit}, IDP_JOBS_WORKER="false")
http = app.test_client()
start = Path({start!r})
while not start.exists():
    time.sleep(0.01)
codes = []
for _ in range({calls}):
    response = http.post({api!r}, json={body!r}, headers={{"Authorization": "Bearer " + {token!r}}})
    codes.append(response.get_json()["code"])
print(json.dumps(codes))
"""


def test_two_processes_share_one_count_per_ods_code(app, system, tmp_path):
    url = app.extensions["idp"].settings.database_url
    token = system.token_for_api()
    # A date of birth PDS does not hold: each call is counted, then refused (11001) without recording anything.
    body = body_for(case("gp_online_without_id_check"), date_of_birth="1999-09-28")
    start = tmp_path / "start"
    workers = []
    for n in range(2):
        instance = tmp_path / f"node{n}"
        instance.mkdir()
        script = WORKER.format(repo=str(REPO), tests=str(REPO / "tests"), url=url, instance=str(instance), limit=LIMIT,
                               start=str(start), calls=CALLS_EACH, api=API, body=body, token=token)
        workers.append(subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=REPO, env={**os.environ}))
    time.sleep(0.5)
    start.touch()
    codes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        codes += json.loads(out.strip().splitlines()[-1])
    assert len(codes) == 2 * CALLS_EACH
    assert codes.count("11001") == LIMIT and codes.count("11011") == 2 * CALLS_EACH - LIMIT
