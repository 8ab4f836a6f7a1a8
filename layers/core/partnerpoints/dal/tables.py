"""Which template table each PynamoDB model stands for, and binding them to the deployed names."""

from __future__ import annotations

from pynamodb.models import Model

from partnerpoints.dal.click_tables import ClickItem, MemberClickItem
from partnerpoints.dal.counter_tables import PartnerCounterItem
from partnerpoints.dal.ledger_tables import AccountBalanceItem, LedgerEntryItem
from partnerpoints.dal.order_points_tables import OrderPointsItem
from partnerpoints.dal.order_tables import OrderChangeItem, OrderItem, PostbackDeliveryItem
from partnerpoints.dal.partner_tables import (
    LinkItem,
    PartnerApiKeyItem,
    PartnerCredentialsItem,
    PartnerItem,
)
from partnerpoints.dal.promo_tables import (
    PromoAttemptsItem,
    PromoCampaignItem,
    PromoCodeBatchItem,
    PromoCodeItem,
    PromoHoldingItem,
    PromoRedemptionItem,
)
from partnerpoints.dal.webhook_tables import WebhookEndpointItem, WebhookEventItem
from partnerpoints.settings import Settings

# Template logical id -> model: the one list of the tables of record. The drift test compares each pair;
# each table's name comes from the variable its logical id names (settings.table_variable).
TEMPLATE_TABLES: dict[str, type[Model]] = {
    "LedgerEntriesTable": LedgerEntryItem,
    "AccountBalancesTable": AccountBalanceItem,
    "PartnersTable": PartnerItem,
    "LinksTable": LinkItem,
    "ClicksTable": ClickItem,
    "PartnerCredentialsTable": PartnerCredentialsItem,
    "PartnerApiKeysTable": PartnerApiKeyItem,
    "OrdersTable": OrderItem,
    "PostbackDeliveriesTable": PostbackDeliveryItem,
    "OrderPointsTable": OrderPointsItem,
    "PromoCampaignsTable": PromoCampaignItem,
    "PromoCodesTable": PromoCodeItem,
    "PromoCodeBatchesTable": PromoCodeBatchItem,
    "PromoRedemptionsTable": PromoRedemptionItem,
    "PromoHoldingsTable": PromoHoldingItem,
    "PromoAttemptsTable": PromoAttemptsItem,
    "OrderChangesTable": OrderChangeItem,
    "PartnerCountersTable": PartnerCounterItem,
    "MemberClicksTable": MemberClickItem,
    "WebhookEndpointsTable": WebhookEndpointItem,
    "WebhookEventsTable": WebhookEventItem,
}


def bind_tables(settings: Settings) -> None:
    """Point every model whose table this function is given at that table and endpoint. A model of a
    table the function is not given keeps its logical id for a name (no such table: a request fails),
    as its IAM policy would refuse it in AWS."""
    for logical_id, model in TEMPLATE_TABLES.items():
        model.Meta.table_name = settings.table_names.get(logical_id, logical_id)
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint_url
        model._connection = None  # rebuilt lazily with the new name and endpoint
