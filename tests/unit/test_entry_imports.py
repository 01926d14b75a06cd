"""What importing each Lambda entry point loads (issue 16, cold start): module names, not times.

A cold start pays for every module the handler's module imports before the first event. No entry
point loads pydantic or a payload schema at import (validation builds them on the first request
that validates), app.py loads no context's service (each route module defers its own to the
first request that uses it), and a function loads only the services of what its events need, and
of the large shared modules (HEAVY_MODULES: order rules, pricing, the outbound HTTP guard, ...)
only those its events use.

Each entry point is imported in a fresh child of one interpreter (forked after the third-party
libraries every handler uses are imported, so the test stays cheap) and its sys.modules read.
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from infra import resources
from infra.resources import ROOT

# Modules that cost a cold start most and that only some events need: a context's service and
# its helpers, payload schemas (pydantic models) and pydantic itself.
HEAVY = (".service", ".schemas", ".interactions", ".recommendation", ".jobs",
         ".capture", ".cancellation", ".fulfilment",                                   # ordering
         ".management", ".runner", ".sender", ".targeting", ".attribution",           # campaign
         ".sessions", ".workflow", ".link_actions", ".worklist")                      # recovery
# Modules shared across contexts that are large to compile (a Lambda bundle has no .pyc) or that
# only some calls use: the order rules, pricing and promotion evaluation, the payment provider,
# the notification rules, the outbound HTTP guard.
HEAVY_MODULES = {"chalicelib.ordering.domain", "chalicelib.basket.pricing", "chalicelib.promotion.evaluator",
                 "chalicelib.payment.provider", "chalicelib.notify.domain", "chalicelib.outbound"}
_ORDER_RULES = {"chalicelib.ordering.domain", "chalicelib.basket.pricing", "chalicelib.promotion.evaluator"}

# Per entry point, the heavy modules its import may load: what (nearly) every one of its events uses.
ALLOWED: dict[str, set[str]] = {
    "app": set(),
    "functions.appointment_sweep": {"chalicelib.appointment.service"},
    "functions.basket_events": {"chalicelib.hub.service", "chalicelib.recovery.sessions",
                                "chalicelib.recovery.service"},
    "functions.basket_sweep": {"chalicelib.recovery.sessions", "chalicelib.recovery.service"},
    "functions.campaign_attribution": {"chalicelib.campaign.attribution"},
    "functions.campaign_runner": {"chalicelib.campaign.runner", "chalicelib.campaign.targeting"},
    "functions.campaign_send": {"chalicelib.campaign.sender", "chalicelib.campaign.runner",
                                "chalicelib.campaign.targeting", "chalicelib.campaign.service"},
    "functions.campaign_targeting": {"chalicelib.campaign.targeting"},
    # catalogue imports fetch their export over HTTP (chalicelib.outbound)
    "functions.catalog_events": {"chalicelib.hub.service"},   # jobs (and outbound) by the first job inserted
    "functions.catalog_jobs": {"chalicelib.catalog.jobs", "chalicelib.outbound"},
    "functions.catalog_sweep": {"chalicelib.catalog.jobs", "chalicelib.outbound"},
    "functions.customer_events": {"chalicelib.hub.service"},   # interactions by the first consent change
    "functions.hub_delivery": {"chalicelib.outbound"},
    "functions.inventory_events": {"chalicelib.hub.service"},
    "functions.notify_events": {"chalicelib.hub.service", "chalicelib.notify.domain"},
    "functions.notify_send": {"chalicelib.notify.service", "chalicelib.notify.domain"},
    "functions.notify_sweep": {"chalicelib.notify.service", "chalicelib.notify.domain"},
    # ordering.service reads the catalogue through basket.service's cache (module-level alias)
    "functions.order_events": {"chalicelib.hub.service", "chalicelib.ordering.fulfilment",
                               "chalicelib.ordering.service", "chalicelib.basket.service", *_ORDER_RULES},
    "functions.order_tasks": {"chalicelib.ordering.fulfilment", "chalicelib.ordering.service",
                              "chalicelib.basket.service", *_ORDER_RULES},
    "functions.payment_sweep": {"chalicelib.payment.service", "chalicelib.payment.provider"},
    "functions.promotion_events": {"chalicelib.hub.service"},
    # the quote stream and sweep price nothing: quote.service loads pricing on the API's first call
    "functions.quote_events": {"chalicelib.hub.service", "chalicelib.quote.service"},
    "functions.quote_sweep": {"chalicelib.quote.service"},
    "functions.recovery_tasks": {"chalicelib.recovery.workflow", "chalicelib.recovery.service"},
    # every message is a child order for a stack, read and sent over HTTP (no pricing)
    "functions.stack_adapter": {"chalicelib.ordering.domain", "chalicelib.outbound"},
    "functions.stock_sweep": {"chalicelib.stock.service"},
}

_PROBE = textwrap.dedent("""
    import json, os, sys
    import aws_lambda_powertools.metrics, aws_lambda_powertools.utilities.batch  # every handler's
    import pynamodb.models, chalice
    out = {}
    for name in sys.argv[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:   # the child: import one entry point, report what it loaded
            os.close(read)
            __import__(name)
            os.write(write, json.dumps(sorted(sys.modules)).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        out[name] = json.loads(data) if status == 0 and data else None
    print(json.dumps(out))
""")


def _entry_points() -> list[str]:
    return ["app"] + sorted({f.handler.rsplit(".", 1)[0] for f in resources.FUNCTIONS})


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    env = {**os.environ, "OMNISHOP_LOCAL": "0"}   # as deployed (local mode adds the token route)
    out = subprocess.run([sys.executable, "-c", _PROBE, *_entry_points()], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True, timeout=300)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(found.values()), f"an entry point failed to import: {found} {out.stderr[-3000:]}"
    return {name: set(modules) for name, modules in found.items()}


def test_every_entry_point_is_listed():
    assert sorted(ALLOWED) == _entry_points()


@pytest.mark.parametrize("entry", sorted(ALLOWED))
def test_no_pydantic_at_import(loaded, entry):
    assert not {m for m in loaded[entry] if m == "pydantic" or m.startswith("pydantic.")}, \
        f"{entry} imports pydantic (payload models are needed by the first request that validates, not at import)"


@pytest.mark.parametrize("entry", sorted(ALLOWED))
def test_only_the_services_its_events_need(loaded, entry):
    heavy = {m for m in loaded[entry] if m.startswith("chalicelib") and m.endswith(HEAVY)}
    heavy |= ({"chalicelib.schemas"} | HEAVY_MODULES) & loaded[entry]
    assert heavy - ALLOWED[entry] == set(), f"{entry} imports {sorted(heavy - ALLOWED[entry])} at import"


def test_basket_events_loads_no_other_context_it_does_not_need(loaded):
    """The issue's example: the basket stream consumer validates no payload and places no order."""
    modules = loaded["functions.basket_events"]
    for unwanted in ("chalicelib.catalog.schemas", "chalicelib.customer.schemas", "chalicelib.basket.schemas",
                     "chalicelib.rules.service", "chalicelib.customer.service", "chalicelib.basket.service",
                     "chalicelib.inventory.service", "chalicelib.ordering.service",
                     "chalicelib.ordering.capture", "chalicelib.ordering.fulfilment", "chalicelib.ordering.domain",
                     "chalicelib.basket.pricing", "chalicelib.outbound", "chalicelib.customer.domain"):
        assert unwanted not in modules, unwanted


# What the API's calls need and these entry points' events do not (issue 16, session 11): the
# callers' roles (access), the qualification rules and places, the basket's store and lines (the
# order workflow reads only basket.service's catalogue cache), pricing, the customer rules, the
# signed links of notify.
_NOT_LOADED = {
    "functions.order_tasks": ("chalicelib.access", "chalicelib.customer.access", "chalicelib.rules.domain",
                              "chalicelib.rules.places", "chalicelib.basket.store", "chalicelib.basket.lines",
                              "chalicelib.streams"),
    "functions.order_events": ("chalicelib.customer.access", "chalicelib.rules.domain", "chalicelib.rules.places"),
    "functions.quote_sweep": ("chalicelib.access", "chalicelib.customer.domain", "chalicelib.rules.domain",
                              "chalicelib.basket.domain", "chalicelib.basket.service"),
    "functions.quote_events": ("chalicelib.customer.domain", "chalicelib.rules.domain", "chalicelib.basket.domain",
                               "chalicelib.basket.service"),
    "functions.basket_events": ("chalicelib.notify.links",),
    "functions.stack_adapter": ("chalicelib.basket.domain", "chalicelib.appointment.domain"),
}


@pytest.mark.parametrize("entry", sorted(_NOT_LOADED))
def test_what_only_the_api_needs_is_not_loaded(loaded, entry):
    assert set(_NOT_LOADED[entry]) & loaded[entry] == set()


@pytest.mark.parametrize("entry", ["functions.catalog_events", "functions.inventory_events", "functions.notify_events",
                                   "functions.promotion_events"])
def test_a_stream_that_only_publishes_loads_no_customer_rules(loaded, entry):
    """These consumers turn a change into hub events: the customer rules (consent, payload checks)
    are loaded by the calls that use them, not by their domain's import."""
    assert "chalicelib.customer.domain" not in loaded[entry]


def test_the_app_loads_no_domain_its_routes_do_not_register_with(loaded):
    """A route module reads its context's domain on the first request it serves; only what route
    registration itself reads (the catalogue's kinds, a hub's API name) is loaded at import."""
    for unwanted in ("chalicelib.ordering.domain", "chalicelib.basket.pricing", "chalicelib.promotion.evaluator",
                     "chalicelib.payment.domain", "chalicelib.payment.provider", "chalicelib.appointment.domain",
                     "chalicelib.inventory.domain", "chalicelib.rules.domain"):
        assert unwanted not in loaded["app"], unwanted


@pytest.mark.parametrize("context", ["inventory", "notify", "ordering", "rules"])
def test_routes_spell_the_domains_names_as_the_domain_does(context):
    """These route modules spell the API name and root (or kind) their registration reads, so that
    their import loads no domain: the same values as the domain's."""
    api, domain = (importlib.import_module(f"chalicelib.{context}.{m}") for m in ("api", "domain"))
    spelled = [name for name in ("API_NAME", "API_ROOT", "RULE_KIND") if name in vars(api)]
    assert spelled, f"chalicelib/{context}/api.py spells none"
    assert {name: getattr(api, name) for name in spelled} == {name: getattr(domain, name) for name in spelled}


def test_a_deferred_module_loads_on_first_use(tmp_path, monkeypatch):
    from chalicelib import deferred

    (tmp_path / "omnishop_probe_mod.py").write_text("LOADS = 1\ndef answer():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "omnishop_probe_mod", raising=False)
    proxy = deferred.module("omnishop_probe_mod")
    assert "omnishop_probe_mod" not in sys.modules      # naming it imports nothing
    assert proxy.answer() == 42                          # the first read imports it
    real = sys.modules["omnishop_probe_mod"]
    proxy.answer = lambda: 7                             # patching the proxy patches the module
    assert real.answer() == 7 and proxy.answer() == 7
    del sys.modules["omnishop_probe_mod"]
