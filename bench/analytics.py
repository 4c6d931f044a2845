"""The analytics summary's latency with 10^3 and with 10^6 verifications stored.

Both databases hold the same 1,000 verifications in the last day; the larger one holds 999,000
more over the year before it. `GET /v1/analytics/summary` for the last day should cost about
the same on both (target: at most 2x): the range is a range of the `(app_id, id)` index, so
the older rows are never read. A third figure asks for the whole year of the larger database,
to show what does grow: the rows in the range asked.
Usage: python bench/analytics.py [--quick]   (--quick: 10^3 against 10^4, a smoke run)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from serving import ADMIN_TOKEN, SECRET_KEY, now, prepare, seed, served, timed

from otpgate.config import Settings
from otpgate.runtime import build_runtime

RECENT = 1_000
REPEATS = 30


def measure(stored: int, root: Path) -> dict[str, object]:
    data_dir = root / f"stored-{stored}" / "data"
    data_dir.mkdir(parents=True)
    app_id, api_key = prepare(data_dir)
    newest = now()
    started = time.perf_counter()
    seed(data_dir, app_id, RECENT, newest=newest, days=0.99)
    if stored > RECENT:
        seed(
            data_dir,
            app_id,
            stored - RECENT,
            newest=newest - timedelta(days=1, minutes=1),
            days=360,
        )
    seeded_s = round(time.perf_counter() - started, 1)
    headers = {"Authorization": f"Bearer {api_key}"}
    last_day = {"from": (newest - timedelta(days=1)).isoformat()}
    figures: dict[str, object] = {"stored": stored, "seeded_seconds": seeded_s}
    with served(data_dir) as client:

        def ask(**params: str) -> None:
            answer = client.get("/v1/analytics/summary", params=params, headers=headers)
            assert answer.status_code == 200, answer.text

        day_total = client.get("/v1/analytics/summary", params=last_day, headers=headers).json()[
            "verifications"
        ]
        assert day_total == RECENT, day_total
        figures["last_day"] = timed(lambda: ask(**last_day), REPEATS)
        figures["last_day_by_country"] = timed(lambda: ask(**last_day, group_by="country"), REPEATS)
        figures["last_day_by_prefix"] = timed(lambda: ask(**last_day, group_by="prefix"), REPEATS)
        if stored > RECENT:
            year = {"from": (newest - timedelta(days=365)).isoformat()}
            figures["whole_year_by_day"] = timed(lambda: ask(**year, group_by="day"), 3)
    # the query alone, in-process: the part of the latency the rows stored could change
    runtime = build_runtime(
        Settings(data_dir=data_dir, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, _env_file=None)
    )
    try:
        app = runtime.apps.get_app(app_id)
        since = newest - timedelta(days=1)
        figures["last_day_query"] = timed(
            lambda: runtime.analytics.summary(app, start=since, end=newest), REPEATS
        )
    finally:
        runtime.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    larger = 10_000 if parser.parse_args().quick else 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        small = measure(RECENT, Path(scratch))
        large = measure(larger, Path(scratch))
    ratio = large["last_day"]["median_ms"] / small["last_day"]["median_ms"]  # type: ignore[index]
    query_ratio = (
        large["last_day_query"]["median_ms"] / small["last_day_query"]["median_ms"]  # type: ignore[index]
    )
    print(f"analytics summary, the last day ({RECENT} verifications in it), median / p95 ms:")
    for figures in (small, large):
        print(
            f"  {figures['stored']:>9,} stored (seeded in {figures['seeded_seconds']} s): "
            + ", ".join(
                f"{name} {figures[name]['median_ms']} / {figures[name]['p95_ms']}"  # type: ignore[index]
                for name in (
                    "last_day",
                    "last_day_by_country",
                    "last_day_by_prefix",
                    "last_day_query",
                )
            )
        )
    print(
        f"  ratio {larger:,} / {RECENT:,} stored: {ratio:.2f}x over HTTP, "
        f"{query_ratio:.2f}x the query alone (target: at most 2x)"
    )
    if "whole_year_by_day" in large:
        year = large["whole_year_by_day"]
        print(
            f"  the whole year of {larger:,} by day: {year['median_ms']} ms (grows with the range)"
        )  # type: ignore[index]
    print(
        json.dumps(
            {
                "small": small,
                "large": large,
                "ratio": round(ratio, 2),
                "query_ratio": round(query_ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
