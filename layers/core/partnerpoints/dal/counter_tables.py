"""PynamoDB model of the partner counters table: its keys and index, for the drift test and the
nightly statements' read of the partners active on a day. The counters themselves are top-level
number attributes named by what they count ("clicks.total", "sales.EUR"): dal.counter_store reads and
adds them with the low-level client."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class ActivePartnersIndex(GlobalSecondaryIndex["PartnerCounterItem"]):
    """Sparse, day items only: the partners of one shard with counters on one day."""

    class Meta:
        index_name = "active_partners"
        projection = KeysOnlyProjection()

    activity_key = UnicodeAttribute(hash_key=True)
    partner_id = UnicodeAttribute(range_key=True)


class PartnerCounterItem(Model):
    class Meta:
        table_name = "PartnerCountersTable"  # replaced by dal.tables.bind_tables()
        region: str | None = None
        host: str | None = None

    partner_id = UnicodeAttribute(hash_key=True)
    counter_key = UnicodeAttribute(range_key=True)
    activity_key = UnicodeAttribute(null=True)  # "{day}#{partner shard}", day items only
    expires_at = TTLAttribute(null=True)  # window markers only

    active_partners = ActivePartnersIndex()
