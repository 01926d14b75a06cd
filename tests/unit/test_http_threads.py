"""One app object handles requests in several threads at once (the local server, the test client):
each request must see its own body, headers and Lambda context, never another's."""
import threading

from chalice.test import Client

from chalicelib.http import App


def _app_whose_requests_meet():
    """Two requests are both inside the app (Chalice has set both as the current request) before
    either reads it: the moment a shared attribute gives one of them the other's."""
    app = App(app_name="threads")
    inside = threading.Barrier(2, timeout=10)

    @app.route("/echo", methods=["POST"])
    def echo():
        inside.wait()
        request = app.current_request
        return {"body": request.json_body, "channel": request.headers.get("x-channel"),
                "context": app.lambda_context.function_name}
    return app


def test_two_requests_at_once_each_read_their_own_request():
    app, answers = _app_whose_requests_meet(), {}
    with Client(app) as client:
        def call(channel):
            response = client.http.post("/echo", headers={"Content-Type": "application/json", "x-channel": channel},
                                        body=f'{{"item": "{channel}-item"}}')
            answers[channel] = response.json_body

        threads = [threading.Thread(target=call, args=(c,)) for c in ("web", "app")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert answers["web"]["body"] == {"item": "web-item"} and answers["web"]["channel"] == "web"
    assert answers["app"]["body"] == {"item": "app-item"} and answers["app"]["channel"] == "app"
    assert answers["web"]["context"] == answers["app"]["context"] == "api_handler"


def test_the_omnishop_app_keeps_its_request_per_thread():
    import app as omnishop

    assert isinstance(omnishop.app, App)
