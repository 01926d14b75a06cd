"""The one read-change-write (db.change, db.delete) and the typed errors, without AWS: the same
rules for every context (412 with the current resource and its ETag, jittered retries, 409 busy)."""
import pytest

from chalicelib import db, errors


class Item:
    """A versioned resource in memory whose writes can be made to lose to another writer."""

    def __init__(self, doc, version=1, lose=0):
        self.doc, self.version, self.lose, self.writes, self.loads = dict(doc), version, lose, 0, 0

    def load(self):
        self.loads += 1
        return dict(self.doc), self.version

    def write(self, new, version):
        if self.lose:
            self.lose -= 1
            self.doc, self.version = {**self.doc, "by": "someone else"}, self.version + 1
            raise db.StaleVersion()
        assert version == self.version
        self.writes += 1
        self.doc, self.version = dict(new), version + 1
        return self.version


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    waits = []
    monkeypatch.setattr(db, "_sleep", waits.append)
    return waits


def test_a_change_is_written_at_the_version_read():
    item = Item({"name": "a"})
    doc, version = db.change("thing 1", item.load, lambda cur, v: {**cur, "name": "b"}, item.write)
    assert (doc, version, item.writes) == ({"name": "b"}, 2, 1)


def test_a_stale_if_match_is_412_with_the_current_resource_and_its_etag_and_nothing_written():
    item = Item({"name": "a"}, version=3)
    with pytest.raises(errors.Stale) as raised:
        db.change("thing 1", item.load, lambda cur, v: {**cur, "name": "b"}, item.write, expected=2)
    assert raised.value.status == 412 and raised.value.to_body() == {"name": "a"}
    assert raised.value.headers["ETag"] == '"3"' and item.writes == 0


def test_losing_without_if_match_reads_again_after_a_back_off(no_waiting):
    item = Item({"n": 0}, lose=2)
    doc, version = db.change("thing 1", item.load, lambda cur, v: {**cur, "n": cur["n"] + 1}, item.write)
    assert doc["by"] == "someone else" and doc["n"] == 1   # built on what the other writer wrote
    assert item.loads == 3 and len(no_waiting) == 2 and version == 4


def test_losing_with_if_match_is_412_with_what_the_other_writer_wrote():
    item = Item({"n": 0}, lose=1)
    with pytest.raises(errors.Stale) as raised:
        db.change("thing 1", item.load, lambda cur, v: {**cur, "n": 1}, item.write, expected=1)
    assert raised.value.to_body()["by"] == "someone else" and raised.value.headers["ETag"] == '"2"'
    assert item.writes == 0


def test_losing_every_attempt_is_409_busy_and_nothing_written(no_waiting):
    item = Item({"n": 0}, lose=99)
    with pytest.raises(errors.Conflict) as raised:
        db.change("thing 1", item.load, lambda cur, v: cur, item.write, attempts=3)
    assert raised.value.code == "busy" and raised.value.status == 409 and "thing 1" in raised.value.message
    assert item.writes == 0 and item.loads == 3
    assert len(no_waiting) == 2   # no wait before the last answer


def outpaced_load(item, times):
    """item.load, but the first `times` reads are outpaced by writers (a paged document's header and
    pages moving between its two reads: pages.consistent gave up)."""
    left = [times]

    def load():
        if left[0]:
            left[0] -= 1
            item.loads += 1
            raise db.Outpaced("the document changed on every read; retry", "busy")
        return item.load()
    return load


def test_a_read_outpaced_by_writers_is_a_lost_attempt_read_again_after_a_back_off(no_waiting):
    """20 writers on one large order under load: a writer whose read kept being outpaced got 503 and
    gave up, instead of trying again within its attempts like any writer that lost."""
    item = Item({"n": 0})
    doc, version = db.change("thing 1", outpaced_load(item, 2), lambda cur, v: {**cur, "n": 1}, item.write)
    assert (doc, version, item.writes, item.loads) == ({"n": 1}, 2, 1, 3) and len(no_waiting) == 2


def test_a_read_outpaced_on_every_attempt_is_409_busy_and_nothing_written(no_waiting):
    item = Item({"n": 0})
    with pytest.raises(errors.Conflict) as raised:
        db.change("thing 1", outpaced_load(item, 99), lambda cur, v: cur, item.write, attempts=3)
    assert raised.value.code == "busy" and raised.value.status == 409 and item.writes == 0


def test_a_read_outpaced_with_if_match_is_503_retry():
    """With If-Match the client's version is what counts: no retry on its behalf."""
    item = Item({"n": 0})
    with pytest.raises(db.Outpaced) as raised:
        db.change("thing 1", outpaced_load(item, 1), lambda cur, v: cur, item.write, expected=1)
    assert raised.value.status == 503 and item.writes == 0


def test_a_mutate_that_finds_its_read_outdated_is_a_lost_write(no_waiting):
    item, outdated = Item({"n": 0}), [True]

    def mutate(cur, version):
        if outdated.pop() if outdated else False:   # e.g. a related item read after it is newer
            item.doc, item.version = {**item.doc, "by": "someone else"}, item.version + 1
            raise db.StaleVersion()
        return {**cur, "n": 1}

    doc, version = db.change("thing 1", item.load, mutate, item.write)
    assert doc == {"n": 1, "by": "someone else"} and version == 3 and item.loads == 2 and len(no_waiting) == 1
    item, outdated = Item({"n": 0}), [True]
    with pytest.raises(errors.Stale) as raised:   # with If-Match: the client's version is gone
        db.change("thing 1", item.load, mutate, item.write, expected=1)
    assert raised.value.headers["ETag"] == '"2"' and item.writes == 0


def test_nothing_to_change_writes_nothing():
    item = Item({"n": 0})
    assert db.change("thing 1", item.load, lambda cur, v: None, item.write) == ({"n": 0}, 1)
    assert item.writes == 0


def test_a_refused_delete_deletes_nothing_and_a_delete_is_at_the_version_read():
    item, removed = Item({"state": "active"}, version=5), []

    def refuse(doc):
        if doc["state"] == "active":
            raise errors.unprocessable("an active thing is not deleted")

    with pytest.raises(errors.Unprocessable):
        db.delete("thing 1", item.load, removed.append, check=refuse)
    assert removed == []
    db.delete("thing 1", item.load, removed.append)
    assert removed == [5]


@pytest.mark.parametrize("make,typ,status", [
    (lambda: errors.bad_request("x"), errors.Invalid, 400),
    (lambda: errors.unauthorized("x"), errors.Unauthorized, 401),
    (lambda: errors.forbidden("x"), errors.Forbidden, 403),
    (lambda: errors.not_found("basket", "1"), errors.NotFound, 404),
    (lambda: errors.conflict("x"), errors.Conflict, 409),
    (lambda: errors.busy("basket 1"), errors.Conflict, 409),
    (lambda: errors.precondition_failed("x"), errors.Stale, 412),
    (lambda: errors.too_large(10), errors.TooLarge, 413),
    (lambda: errors.unsupported_media_type("text/plain"), errors.UnsupportedMediaType, 415),
    (lambda: errors.unprocessable("x"), errors.Unprocessable, 422),
])
def test_each_error_has_one_type_that_fixes_its_status_and_tmf_body(make, typ, status):
    exc = make()
    assert type(exc) is typ and isinstance(exc, errors.ApiError) and exc.status == status
    body = exc.to_body()
    assert body["status"] == str(status) and body["@type"] == "Error" and body["code"] and body["reason"]
    others = [t for t in (errors.Invalid, errors.Forbidden, errors.NotFound, errors.Conflict, errors.Stale,
                          errors.Unprocessable) if t is not typ]
    assert not any(isinstance(exc, t) for t in others)   # caught by its own type only


def test_an_error_retold_keeps_its_type_and_code_and_loses_its_body():
    exc = errors.precondition_failed("at version 2", {"id": "b1"}, 2).retold("the basket changed; open the link again")
    assert isinstance(exc, errors.Stale) and exc.code == "staleVersion" and exc.headers == {}
    assert exc.to_body()["message"] == "the basket changed; open the link again"
