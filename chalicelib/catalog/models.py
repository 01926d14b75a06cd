from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class CatalogRecord(Model):
    """One TMF620 resource (`pk` = "<kind>#<id>"), or the catalogue stamp item ("META#stamp")."""
    Meta = meta("catalog")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)     # productOffering, productSpecification, ...
    sort = UnicodeAttribute(null=True)     # lower-case name + "#" + id
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()


class CatalogStamp(Model):
    """The stamp item on the same table, written unconditionally (no version)."""
    Meta = meta("catalog")

    pk = UnicodeAttribute(hash_key=True)
    body = JsonBody(null=True)
