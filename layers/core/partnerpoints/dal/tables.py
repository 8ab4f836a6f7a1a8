"""Which template table each PynamoDB model stands for, and binding them to the deployed names."""

from __future__ import annotations

from pynamodb.models import Model

from partnerpoints.dal.click_tables import ClickItem
from partnerpoints.dal.ledger_tables import AccountBalanceItem, LedgerEntryItem
from partnerpoints.dal.order_points_tables import OrderPointsItem
from partnerpoints.dal.order_tables import OrderChangeItem, OrderItem, PostbackDeliveryItem
from partnerpoints.dal.partner_tables import LinkItem, PartnerCredentialsItem, PartnerItem
from partnerpoints.dal.promo_tables import (
    PromoAttemptsItem,
    PromoCampaignItem,
    PromoCodeBatchItem,
    PromoCodeItem,
    PromoHoldingItem,
    PromoRedemptionItem,
)
from partnerpoints.settings import Settings

# Template logical id -> model; the drift test compares each pair.
TEMPLATE_TABLES: dict[str, type[Model]] = {
    "LedgerEntriesTable": LedgerEntryItem,
    "AccountBalancesTable": AccountBalanceItem,
    "PartnersTable": PartnerItem,
    "LinksTable": LinkItem,
    "ClicksTable": ClickItem,
    "PartnerCredentialsTable": PartnerCredentialsItem,
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
}


def bind_tables(settings: Settings) -> None:
    """Point every model at the table and endpoint named by the settings."""
    names = {
        LedgerEntryItem: settings.ledger_entries_table_name,
        AccountBalanceItem: settings.account_balances_table_name,
        PartnerItem: settings.partners_table_name,
        LinkItem: settings.links_table_name,
        ClickItem: settings.clicks_table_name,
        PartnerCredentialsItem: settings.partner_credentials_table_name,
        OrderItem: settings.orders_table_name,
        PostbackDeliveryItem: settings.postback_deliveries_table_name,
        OrderPointsItem: settings.order_points_table_name,
        PromoCampaignItem: settings.promo_campaigns_table_name,
        PromoCodeItem: settings.promo_codes_table_name,
        PromoCodeBatchItem: settings.promo_code_batches_table_name,
        PromoRedemptionItem: settings.promo_redemptions_table_name,
        PromoHoldingItem: settings.promo_holdings_table_name,
        PromoAttemptsItem: settings.promo_attempts_table_name,
        OrderChangeItem: settings.order_changes_table_name,
    }
    for model, table_name in names.items():
        model.Meta.table_name = table_name
        model.Meta.region = settings.region
        model.Meta.host = settings.dynamodb_endpoint_url
        model._connection = None  # rebuilt lazily with the new name and endpoint
