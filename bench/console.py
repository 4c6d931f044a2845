"""The console overview page's latency against the time of five API reads.

The overview shows what an operator would otherwise read with five requests (today's summary,
yesterday's, the verifications list, the providers' health and the app's fraud blocks); served
from one page it should cost less than those five one after the other (target).
Usage: python bench/console.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import httpx
from serving import ADMIN_TOKEN, now, prepare, seed, served, timed

REPEATS = 30


def signed_in(client: httpx.Client) -> httpx.Client:
    form = client.get("/console/")
    login = re.search(r'name="login" value="([^"]+)"', form.text)
    assert login is not None, form.text
    answer = client.post(
        "/console/login",
        data={"login": login.group(1), "token": ADMIN_TOKEN},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "Overview" in answer.text, answer.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    stored = 1_000 if parser.parse_args().quick else 10_000
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        app_id, api_key = prepare(data_dir)
        seed(data_dir, app_id, stored, newest=now(), days=2)
        app = {"Authorization": f"Bearer {api_key}"}
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with served(data_dir) as client:
            moment = now()
            today = {"from": moment.replace(hour=0, minute=0, second=0).isoformat()}
            yesterday = {
                "from": (moment - timedelta(days=1)).replace(hour=0, minute=0).isoformat(),
                "to": today["from"],
            }

            def five_reads() -> None:
                for path, params, headers in (
                    ("/v1/analytics/summary", today, app),
                    ("/v1/analytics/summary", yesterday, app),
                    ("/v1/verifications", {"limit": "20"}, app),
                    ("/v1/analytics/providers", {}, admin),
                    (f"/v1/apps/{app_id}/blocks", {}, admin),
                ):
                    answer = client.get(path, params=params, headers=headers)
                    assert answer.status_code == 200, (path, answer.text)

            reads = timed(five_reads, REPEATS)
            signed_in(client)

            def overview() -> None:
                answer = client.get("/console/")
                assert answer.status_code == 200 and "Verifications today" in answer.text

            page = timed(overview, REPEATS)
    print(f"console overview against five API reads ({stored:,} verifications stored), ms:")
    print(f"  overview page   median {page['median_ms']}, p95 {page['p95_ms']}")
    print(f"  five API reads  median {reads['median_ms']}, p95 {reads['p95_ms']}")
    verdict = "under" if page["median_ms"] < reads["median_ms"] else "OVER"
    print(f"  the page is {verdict} the five reads (target: under)")
    print(json.dumps({"stored": stored, "overview": page, "five_api_reads": reads}))


if __name__ == "__main__":
    main()
