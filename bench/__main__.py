"""`make bench`: print every benchmark's figures."""
from __future__ import annotations

import sys

from bench import basket, catalog, customer, imports, notify, ordering
from bench import campaign, cost, idle, local_api, recovery, search

SECTIONS = {"imports": imports.run, "local-api": local_api.run, "idle": idle.run, "catalog": catalog.run, "customer": customer.run,
            "basket": basket.run, "notify": notify.run,
            "ordering": ordering.run,
            "recovery": recovery.run, "recovery-burst": recovery.burst, "campaign": campaign.run,
            "campaign-sim": campaign.simulate,
            "cost": cost.run, "search": search.run}


def main(argv: list[str]) -> None:
    wanted = argv or list(SECTIONS)
    for name in wanted:
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
