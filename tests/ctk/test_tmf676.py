"""TMF676 Payment conformance kit (v4.0.0), unmodified, against the local runtime, with an agent
token (an agent takes payments for any account; the kit uses one token for everything).

The kit posts payments of an account with an empty paymentMethod and an empty totalAmount: each
is answered 201 and recorded `failed` (nothing to charge, nothing taken; docs/decisions.md), so
the kit's two payments change no order and reach no provider."""
from tests.ctk import newman

API = "/tmf-api/paymentManagement/v4"


def test_tmf676_ctk_passes(local_runtime, tmp_path):
    token = local_runtime.token("agent")
    result = newman.run(
        "TMF676", "ctk/TMF676-Payment-v4.0.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Payment", f"{local_runtime.url}{API}", token, tmp_path)
    assert result.requests == 12 and result.assertions > 40, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
    auth = {"Authorization": f"Bearer {token}"}
    status, _, kept = local_runtime.request("GET", f"{API}/payment?account.id=15463151", None, auth)
    assert status == 200 and kept and {p["status"] for p in kept} == {"failed"}
