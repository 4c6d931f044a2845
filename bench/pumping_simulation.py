"""Simulate SMS-pumping attacks and ordinary traffic against the guard's rule, to choose its
default thresholds (docs/abuse.md quotes the figures this prints).

    .venv/bin/python bench/pumping_simulation.py            # the grid of thresholds
    .venv/bin/python bench/pumping_simulation.py --defaults # only the shipped defaults

Traffic, per minute over three days (two to build each prefix's baseline, then the events):
- 40 ordinary prefixes, 0.3 to 60 sends an hour each (log-uniform), following a day/night
  curve; each verification is approved with the prefix's own rate (40 to 95 %) one to five
  minutes after it is sent (a person reading and typing the code);
- campaigns: six times a day some prefix gets ten times its usual traffic for an hour, and
  once a day a new prefix (no history) opens at 60 sends an hour: ordinary people, who convert;
- attacks from the third day's 10:00 for six hours, none of the codes ever entered: to a new
  prefix and to a busy ordinary one, at 120, 600 and 3000 sends an hour; and a careful attacker
  at 600 an hour who enters 10 % of the codes.

The rule is the one the service runs (`otpgate.domain.fraud`): sends in the last hour (six
10-minute buckets) against the average hour of the 24 before, and conversion over the
verifications of the last hour as known at the moment of the send.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass, field

from otpgate.domain import fraud

MINUTES = 3 * 24 * 60
ATTACK_START = 2 * 24 * 60 + 10 * 60
ATTACK_MINUTES = 6 * 60
BUCKET_MINUTES = fraud.RECENT_BUCKET_SECONDS // 60


@dataclass
class Prefix:
    rate_per_hour: float
    conversion: float
    attack_rate: float = 0.0
    attack_conversion: float = 0.0
    ten_minutes: dict[int, int] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)
    # (sent at, approved at or None) of the last hour's verifications
    recent: deque[tuple[int, int | None]] = field(default_factory=deque)
    blocked_until: int = -1


@dataclass
class Outcome:
    attack_sent: int = 0
    attack_refused: int = 0
    attack_before_block: list[int] = field(default_factory=list)
    legit_sent: int = 0
    legit_refused: int = 0
    false_blocks: int = 0


def daily_curve(minute: int) -> float:
    """Few sign-ups at night, most in the afternoon: 0.2 to 1.8 times the average."""
    hour = (minute % 1440) / 60
    return 1 + 0.8 * math.sin((hour - 9) / 24 * 2 * math.pi)


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: rates here stay small per minute
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def send(
    prefix: Prefix, minute: int, approves: bool, rng: random.Random, t: fraud.PumpingThresholds
) -> bool:
    """One send through the guard; False when refused (blocked, or blocked by this send)."""
    if minute < prefix.blocked_until:
        return False
    ten = minute // BUCKET_MINUTES
    hour = minute // 60
    prefix.ten_minutes[ten] = prefix.ten_minutes.get(ten, 0) + 1
    prefix.hours[hour] = prefix.hours.get(hour, 0) + 1
    recent = sum(prefix.ten_minutes.get(ten - step, 0) for step in range(fraud.RECENT_BUCKETS))
    baseline = sum(prefix.hours.get(hour - h, 0) for h in range(1, fraud.BASELINE_HOURS + 1))
    baseline /= fraud.BASELINE_HOURS
    while prefix.recent and prefix.recent[0][0] <= minute - 60:
        prefix.recent.popleft()
    if fraud.is_surge(recent, baseline, t):
        started = len(prefix.recent)
        approved = sum(1 for _, at in prefix.recent if at is not None and at <= minute)
        traffic = fraud.PrefixTraffic(recent, baseline, started, approved)
        if fraud.looks_like_pumping(traffic, t):
            prefix.blocked_until = minute + t.block_seconds // 60
            prefix.ten_minutes[ten] -= 1
            prefix.hours[hour] -= 1
            return False
    prefix.recent.append((minute, minute + rng.randint(1, 5) if approves else None))
    return True


def run(t: fraud.PumpingThresholds, seed: int, attack: str | None) -> Outcome:
    rng = random.Random(seed)
    prefixes = [
        Prefix(math.exp(rng.uniform(math.log(0.3), math.log(60))), rng.uniform(0.4, 0.95))
        for _ in range(40)
    ]
    busy = max(prefixes, key=lambda p: p.rate_per_hour)
    target = None
    if attack is not None:
        kind, rate, conversion = attack.split(":")
        target = busy if kind == "busy" else Prefix(0.0, 0.0)
        target.attack_rate, target.attack_conversion = float(rate), float(conversion)
        if kind == "new":
            prefixes.append(target)
    campaigns = {rng.randrange(MINUTES): rng.choice(prefixes) for _ in range(6 * 3)}
    launches = {
        day * 1440 + rng.randrange(8 * 60, 20 * 60): Prefix(60.0, rng.uniform(0.5, 0.9))
        for day in range(3)
    }
    surging: dict[int, Prefix] = {}
    out = Outcome()
    first_block: dict[int, int] = {}
    for minute in range(MINUTES):
        if minute in campaigns:
            surging[minute + 60] = campaigns[minute]
        if minute in launches:
            prefixes.append(launches[minute])
        active = {id(p) for end, p in surging.items() if end > minute}
        for prefix in prefixes:
            rate = prefix.rate_per_hour * daily_curve(minute) / 60
            if id(prefix) in active:
                rate *= 10
            blocked_before = minute < prefix.blocked_until
            for _ in range(poisson(rng, rate)):
                ok = send(prefix, minute, rng.random() < prefix.conversion, rng, t)
                out.legit_sent += 1
                out.legit_refused += not ok
            attacking = prefix is target and ATTACK_START <= minute < ATTACK_START + ATTACK_MINUTES
            if attacking:
                for _ in range(poisson(rng, prefix.attack_rate / 60)):
                    ok = send(prefix, minute, rng.random() < prefix.attack_conversion, rng, t)
                    out.attack_sent += ok
                    out.attack_refused += not ok
                    if not ok and id(prefix) not in first_block:
                        first_block[id(prefix)] = out.attack_sent
            if not blocked_before and minute < prefix.blocked_until and not attacking:
                out.false_blocks += 1
    if target is not None:
        out.attack_before_block.append(first_block.get(id(target), out.attack_sent))
    return out


ATTACKS = [f"{kind}:{rate}:0" for kind in ("new", "busy") for rate in (120, 600, 3000)]
ATTACKS.append("new:600:0.1")


def evaluate(t: fraud.PumpingThresholds, seeds: range) -> dict[str, float]:
    quiet = [run(t, seed, None) for seed in seeds]
    attacked = {attack: [run(t, seed, attack) for seed in seeds] for attack in ATTACKS}
    legit = sum(o.legit_sent for o in quiet)
    return {
        "false_blocks": sum(o.false_blocks for o in quiet),
        "legit_refused_pct": 100 * sum(o.legit_refused for o in quiet) / legit,
        **{
            attack: max(n for o in outcomes for n in o.attack_before_block)
            for attack, outcomes in attacked.items()
        },
        "busy_collateral": max(
            o.legit_refused for a, outs in attacked.items() if a.startswith("busy") for o in outs
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--defaults", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    seeds = range(args.seeds)
    grid = (
        [(20, 5, 20)]
        if args.defaults
        else itertools.product((10, 20, 40), (3, 5, 10), (10, 20, 30))
    )
    columns = ["false_blocks", "legit_refused_pct", *ATTACKS, "busy_collateral"]
    print("min_sends factor max_conv% | " + " | ".join(columns))
    for min_sends, factor, conversion in grid:
        t = fraud.PumpingThresholds(min_sends, factor, conversion / 100, 12 * 3600)
        row = evaluate(t, seeds)
        figures = " | ".join(
            f"{row[c]:.2f}" if c.endswith("pct") else f"{row[c]:.0f}" for c in columns
        )
        print(f"{min_sends:9d} {factor:6d} {conversion:9d} | {figures}", flush=True)


if __name__ == "__main__":
    main()
