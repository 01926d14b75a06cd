"""Customer table persistence (PynamoDB): keys, conditional writes, and the bounded reads the
360 view is made of. See models.py for the key design."""
from __future__ import annotations

from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import documents
from chalicelib.db import StaleVersion, transaction, versioned, written  # noqa: F401 (store.StaleVersion)
from chalicelib.customer.keys import customer_of, customer_pk  # noqa: F401 (store.customer_of)
from chalicelib.customer.models import CustomerItem

CUSTOMER_SK = "CUSTOMER"
AUDIT = "AUDIT#"
INTERACTION = "INTERACTION#"
LINK_SK = "LINK"
VISITOR_PK, UNLINKED_PK = "VISITOR#", "UNLINKED#"
MAX_ID = 256  # ids longer than this were never made here (and DynamoDB keys have a size limit)


def visitor_pk(visitor_id: str) -> str:
    return VISITOR_PK + visitor_id


def unlinked_pk(at: str) -> str:
    """Interactions naming nobody: one partition per day, so none grows without end."""
    return UNLINKED_PK + at[:10]


# --- customers --------------------------------------------------------------------------------
def _customer_item(doc: dict[str, Any], version: int | None) -> CustomerItem:
    item = CustomerItem(customer_pk(doc["id"]), CUSTOMER_SK, kind="customer",
                        sort=f"{str(doc.get('name') or '').lower()[:200]}#{doc['id']}", body=doc)
    if version is not None:
        item.version = version
    return item


def _audit_item(audit: dict[str, Any]) -> CustomerItem:
    return CustomerItem(customer_pk(audit["customerId"]), f"{AUDIT}{audit['changedAt']}#{audit['id']}", body=audit)


def load_customer(customer_id: str) -> tuple[dict[str, Any], int] | None:
    if len(customer_id) > MAX_ID:
        return None
    try:
        item = CustomerItem.get(customer_pk(customer_id), CUSTOMER_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return item.body, item.version


def write_customer(doc: dict[str, Any], version: int | None, audit: dict[str, Any] | None = None) -> int:
    """Insert (version None: the customer must not exist) or replace the customer stored at
    `version`, with its consent audit record in the same transaction. StaleVersion otherwise."""
    item = _customer_item(doc, version)
    with versioned():
        if audit is None:
            item.save()
        else:
            with transaction() as tx:
                tx.save(item)
                tx.save(_audit_item(audit))
    return item.version


def list_customers(name: str | None = None) -> list[dict[str, Any]]:
    """Every customer by name (a Query on by-kind); with `name`, only that name's key range."""
    condition = CustomerItem.sort.startswith(f"{name.lower()[:200]}#") if name else None
    return [item.body for item in CustomerItem.by_kind.query("customer", condition)]


def page_customers(offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Customers offset .. offset+limit of `list_customers()` and how many there are
    (documents.paged: at most offset+limit read, the total a COUNT)."""
    recs, total = documents.paged(CustomerItem.by_kind, "customer", offset, limit)
    return [item.body for item in recs], total


def customers_page(cursor: dict[str, Any] | None, limit: int
                   ) -> tuple[list[tuple[dict[str, Any], dict[str, Any] | None]], dict[str, Any] | None]:
    """One page of (customer document, projected targeting facts or None) in name order (a Query
    on by-kind, which projects the whole item), and the cursor of the next page."""
    pages = CustomerItem.by_kind.query("customer", limit=limit, page_size=limit, last_evaluated_key=cursor)
    return [(item.body, item.targeting) for item in pages if item.body], pages.last_evaluated_key


def customers_by_id(customer_ids: list[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """(document, targeting facts or None) of each customer found, read in batches (BatchGetItem,
    100 keys a call)."""
    keys = [(customer_pk(cid), CUSTOMER_SK) for cid in dict.fromkeys(customer_ids)]
    return {item.body["id"]: (item.body, item.targeting) for item in CustomerItem.batch_get(keys, consistent_read=True) if item.body}


def set_targeting(customer_id: str, facts: dict[str, Any]) -> bool:
    """Store a customer's projected targeting facts on its item, leaving its document and version
    alone (an UpdateItem; False when the customer is not there)."""
    return written(lambda: CustomerItem._get_connection().update_item(
        customer_pk(customer_id), CUSTOMER_SK, actions=[CustomerItem.targeting.set(facts)],
        condition=CustomerItem.pk.exists()))


# --- audits -------------------------------------------------------------------------------------
def audits(customer_id: str) -> list[dict[str, Any]]:
    """Consent audit records, newest first."""
    return [i.body for i in CustomerItem.query(customer_pk(customer_id), CustomerItem.sk.startswith(AUDIT),
                                               scan_index_forward=False, consistent_read=True)]


# --- interactions -----------------------------------------------------------------------------
def _interaction_item(pk: str, doc: dict[str, Any], occurred: str, moved_from: str | None = None) -> CustomerItem:
    sort = f"{occurred}#{doc['id']}"
    return CustomerItem(pk, INTERACTION + sort, rid=doc["id"], kind="interaction", sort=sort,
                        journey=journey_index_key(pk, doc.get("journeyKey")), moved_from=moved_from, body=doc)


def journey_index_key(pk: str, journey_key: str | None) -> str | None:
    """The by-journey index key: the journey within its owner's partition. Journey keys come from
    channels and anyone may use any key; keyed by owner, touches under another customer's key
    are never read (nor counted against the limit) in that customer's view."""
    return f"{pk}|{journey_key}" if journey_key else None


def interaction_item(pk: str, doc: dict[str, Any], occurred: str) -> CustomerItem:
    """A new interaction's item, to save with the condition NEW (for a caller's transaction)."""
    return _interaction_item(pk, doc, occurred)


NEW = CustomerItem.sk.does_not_exist()   # the condition of a write that must not replace an item


def insert_interaction(pk: str, doc: dict[str, Any], occurred: str) -> bool:
    """Write an interaction into partition `pk` (a PutItem conditional on its key being free);
    False when that very interaction is there already."""
    return written(lambda: _interaction_item(pk, doc, occurred).save(condition=NEW))


def load_interaction(pk: str, rid: str, occurred: str) -> dict[str, Any] | None:
    try:
        return CustomerItem.get(pk, f"{INTERACTION}{occurred}#{rid}", consistent_read=True).body
    except DoesNotExist:
        return None


def latest_interactions(pk: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` interactions of a partition: one Query, whatever the history's length."""
    return [i.body for i in CustomerItem.query(pk, CustomerItem.sk.startswith(INTERACTION), consistent_read=True,
                                               scan_index_forward=False, limit=limit, page_size=limit)]


def interactions(pk: str) -> list[dict[str, Any]]:
    return [i.body for i in CustomerItem.query(pk, CustomerItem.sk.startswith(INTERACTION), consistent_read=True,
                                               scan_index_forward=False)]


def all_interactions() -> list[dict[str, Any]]:
    """Every interaction, newest first (a Query on by-kind)."""
    return [i.body for i in CustomerItem.by_kind.query("interaction", scan_index_forward=False)]


def page_interactions(offset: int, limit: int, pk: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Interactions offset .. offset+limit of `all_interactions()` (or of `interactions(pk)`), and
    how many there are (documents.paged: at most offset+limit read, the total a COUNT)."""
    if pk is None:
        recs, total = documents.paged(CustomerItem.by_kind, "interaction", offset, limit, newest_first=True)
    else:
        recs, total = documents.paged(CustomerItem, pk, offset, limit, condition=CustomerItem.sk.startswith(INTERACTION),
                                      newest_first=True, consistent=True)
    return [i.body for i in recs], total


def journey_interactions(journey_key: str, pk: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` touches of a journey in partition `pk`: one Query on the owner's key, so
    the limit counts that owner's touches only (it used to count every party's, then filter)."""
    return [i.body for i in CustomerItem.by_journey.query(journey_index_key(pk, journey_key), scan_index_forward=False,
                                                           limit=limit, page_size=limit)]


def find_interaction(rid: str) -> tuple[str, dict[str, Any]] | None:
    """(partition, interaction) by id alone."""
    if len(rid) > MAX_ID:
        return None
    for item in CustomerItem.by_id.query(rid, limit=1):
        return item.pk, item.body
    return None


def interaction_items(pk: str) -> Iterator[CustomerItem]:
    return CustomerItem.query(pk, CustomerItem.sk.startswith(INTERACTION), consistent_read=True)


def move_interaction(item: CustomerItem, to_pk: str, body: dict[str, Any]) -> None:
    """Move an interaction to another partition (same sort key) atomically; safe to repeat."""
    occurred = item.sk[len(INTERACTION):].rsplit("#", 1)[0]
    moved = _interaction_item(to_pk, body, occurred, moved_from=item.pk)
    def write() -> None:
        with transaction() as tx:
            tx.save(moved)
            tx.delete(item, add_version_condition=False)
    if not written(write):
        item.delete(add_version_condition=False)  # moved before: only the original is left


# --- identity links ---------------------------------------------------------------------------
def load_link(visitor_id: str) -> dict[str, Any] | None:
    try:
        return CustomerItem.get(visitor_pk(visitor_id), LINK_SK, consistent_read=True).body
    except DoesNotExist:
        return None


def insert_link(visitor_id: str, doc: dict[str, Any]) -> bool:
    """False when the visitor is linked already."""
    return written(CustomerItem(visitor_pk(visitor_id), LINK_SK, body=doc).save)
