"""TMF663 Shopping Cart conformance kit, unmodified, against the local runtime, with a channel
token for the web channel (anonymous baskets)."""
from tests.ctk import newman


def test_tmf663_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF663", "ctk/CTK-Shopping_Cart-4.0.0.postman_collection.json",
        "ctk/TMFENV-V4.0.0.postman_environment.json", "Shopping_Cart",
        f"{local_runtime.url}/tmf-api/shoppingCart/v4", local_runtime.token("channel", channel="web"), tmp_path)
    assert result.assertions > 20, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
