"""`make bench`: print every benchmark's figures. `python -m bench --help` says how to choose."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from bench import (basket, campaign, catalog, cost, customer, idle, imports, local_api, notify, ordering, quote, recovery,
                   search)
from bench import lists

SECTIONS: dict[str, tuple[Callable[[], None], str]] = {
    "imports": (imports.run, "import time of each Lambda entry point beside `import boto3` (+ a DynamoDB client)"),
    "local-api": (local_api.run, "the local API: a keep-alive request beside a fresh connection's"),
    "idle": (idle.run, "CPU of the local runtime at rest"),
    "catalog": (catalog.run, "AWS calls per catalogue operation; overhead beside raw DynamoDB"),
    "customer": (customer.run, "AWS calls per customer operation; the 360 view at 10 and 1,000 interactions"),
    "basket": (basket.run, "AWS calls per basket operation; adding an item as basket and catalogue grow"),
    "quote": (quote.run, "business quotes of 50, 300, 1,000 lines; one order from a 1,000-line quote"),
    "notify": (notify.run, "AWS calls per SMS, email, retried or refused send, TMF681 POST"),
    "ordering": (ordering.run, "per order of 1, 3, 10 items: AWS calls, state transitions, messages"),
    "recovery": (recovery.run, "per abandoned basket: executions, transitions, AWS calls"),
    "recovery-burst": (recovery.burst, "many baskets abandoned at once through the local runtime"),
    "campaign": (campaign.run, "AWS calls per targeted customer (10,000 paged, 2,000 sent); TMF680"),
    "campaign-sim": (campaign.simulate, "the sender against a rate limit, crashed and resumed"),
    "cost": (cost.run, "cost per month at idle and per 1,000 orders, at list prices"),
    "lists": (lists.run, "one page of each TMF list at 200 documents: paged in DynamoDB vs read whole"),
    "search": (search.run, "keyword search and facets at 1,000 and 20,000 offerings, in process"),
}
# The headline figures: 86 s together on a loaded 2-core machine (each section's own time is
# printed after it: keep this list inside two minutes).
QUICK = ("local-api", "notify", "ordering", "basket", "search", "cost")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Print Omnishop's benchmark figures (`make bench` runs them all).",
        epilog="sections: " + "; ".join(f"{name}: {about}" for name, (_, about) in SECTIONS.items()))
    parser.add_argument("sections", nargs="*", metavar="section",
                        help="the sections to run, in this order (default: all; --list names them)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the headline figures, in under two minutes: {', '.join(QUICK)}")
    parser.add_argument("--list", action="store_true", help="name the sections and stop")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"no section {', '.join(map(repr, unknown))}; the sections are {', '.join(SECTIONS)}")
    if args.quick and args.sections:
        parser.error("--quick chooses its own sections; name sections or ask for --quick, not both")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.list:
        for name, (_, about) in SECTIONS.items():
            print(f"{name:15} {about}{'  (--quick)' if name in QUICK else ''}")
        return 0
    for name in QUICK if args.quick else args.sections or list(SECTIONS):
        started = time.perf_counter()
        SECTIONS[name][0]()
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
