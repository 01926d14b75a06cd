"""/docs in a real browser (issue 17): Debian's chromium, headless, driven by Playwright from PyPI,
opens the page the local runtime serves and, for each API chosen in Swagger UI's top bar as a reader
chooses it, checks Swagger UI renders its document: its title, every operation it documents listed
(one `.opblock` per operation) and no error. (Loading the page again for each API, as this test
did until session 17, cost the browser about 16 CPU-seconds against 6.)

The browser is /usr/bin/chromium (`make setup` installs Debian's package; Playwright's own
`playwright install` downloads from a CDN, which is not used). The flags keep it from calling
out (updates, sync, background requests) and run it without a sandbox (CI runs as root).
"""
from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request

import pytest

from chalicelib.docs import openapi

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
WAIT_MS = 60_000   # one document on a loaded 2-core machine


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: `make setup` installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def _document(runtime, url: str) -> dict:
    with urllib.request.urlopen(f"{runtime.url}/{url}", timeout=60) as response:
        return json.load(response)


def test_docs_renders_every_api(local_runtime, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{local_runtime.url}/docs", timeout=WAIT_MS)
    links = page.eval_on_selector_all("#apis li a", "as => as.map(a => [a.textContent, a.getAttribute('href')])")
    assert sorted(name for name, _ in links) == sorted(openapi.apis(__import__("app").app.routes)), links
    for name, url in links:
        doc = _document(local_runtime, url)
        operations = sum(1 for ops in doc["paths"].values() for method in ops if method in METHODS)
        # as a reader does: the API chosen in Swagger UI's top bar (the page is not loaded again)
        page.select_option(".swagger-ui .topbar select", label=name, timeout=WAIT_MS)
        page.wait_for_function(   # its document shown (the URL under the title) and its operations listed
            "([url, operations]) => (document.querySelector('.swagger-ui .info .url')?.innerText || '').trim() === url"
            " && document.querySelectorAll('.swagger-ui .opblock').length >= operations",
            arg=[url, operations], timeout=WAIT_MS)
        title = page.inner_text(".swagger-ui .info .title")
        assert doc["info"]["title"] in title, (name, title)
        assert page.locator(".swagger-ui .opblock").count() == operations, name
        assert page.locator(".swagger-ui .errors-wrapper").count() == 0, (name, page.inner_text(".errors-wrapper"))
    page.close()
    assert not errors, errors
