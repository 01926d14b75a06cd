"""The signed links the local runtime sent (moto's SNS and SES, read from its data.json)."""
import json
import re
import time

TOKEN = re.compile(r"/recovery/link/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def texts(node, key_match, out):
    """Every string under a dict that mentions `key_match` among its values (moto's data.json)."""
    if isinstance(node, dict):
        if any(key_match in json.dumps(v) for v in node.values() if not isinstance(v, (dict, list))) or \
                any(key_match == v for v in node.values()) or key_match in json.dumps(node.get("destinations", "")):
            out.append(json.dumps(node))
        for v in node.values():
            texts(v, key_match, out)
    elif isinstance(node, list):
        for v in node:
            texts(v, key_match, out)
    return out


def link_for(runtime, service, address, basket_id, purpose, timeout=30):
    """The signed link in a message moto sent to `address` about this basket, for `purpose`."""
    deadline = time.monotonic() + timeout
    while True:
        for text in texts(runtime.moto_data().get(service, {}), address, []):
            for token in TOKEN.findall(text):
                status, _, view = runtime.request("GET", f"/recovery/link/{token}")
                if status == 200 and view["shoppingCart"]["id"] == basket_id and view["purpose"] == purpose:
                    return token, view, text
        assert time.monotonic() < deadline, f"no {purpose} link sent by {service}: {runtime.moto_data().get(service)}"
        time.sleep(0.25)
