"""Clicks and the link configuration they need, through boto3's low-level client.

Not PynamoDB: this is the click function's hot path and its cold start is budgeted. The attribute
names are those of `dal.partner_tables` and `dal.click_tables` (tests read what is written here through
those models). Each click is one UpdateItem and no read; link configuration is read (two GetItems)
only when the logic's cache misses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from partnerpoints.dal.low_level_store import LowLevelStore
from partnerpoints.exceptions import StorageUnavailable
from partnerpoints.models.clicks import Click, LinkTarget

# The shopper is waiting: fail fast, retry twice, then the handler answers.
_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"mode": "standard", "max_attempts": 3})


def _timestamp(epoch_ms: int) -> str:
    """The format of PynamoDB's UTCDateTimeAttribute, so models can read what is written here."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def _click_values(click: Click) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        "link_id": {"S": click.link_id},
        "partner_id": {"S": click.partner_id},
        "clicked_at": {"S": _timestamp(click.clicked_at_ms)},
        "ip_hash": {"S": click.ip_hash},
        "user_agent": {"S": click.user_agent},
        "bot": {"BOOL": click.bot},
        "unique": {"BOOL": not click.bot and not click.blocked},
        "expires_at": {"N": str(click.expires_at)},
    }
    if click.sub_ids:  # absent rather than empty: DynamoDB Local's stream garbles an empty map
        values["sub_ids"] = {"M": {name: {"S": value} for name, value in click.sub_ids.items()}}
    if click.blocked:
        values["blocked"] = {"BOOL": True}
    if click.member_id is not None:
        values["member_id"] = {"S": click.member_id}
    if click.referrer_host is not None:
        values["referrer_host"] = {"S": click.referrer_host}
    if click.time_zone is not None:
        values["time_zone"] = {"S": click.time_zone}
    return values


class ClickStore(LowLevelStore):
    client_config = _CLIENT_CONFIG

    def _get(self, table_name: str, key: str, value: str) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self.client.get_item(
                TableName=table_name, Key={key: {"S": value}}
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable("link configuration could not be read") from error
        return item

    def load_target(self, link_id: str) -> LinkTarget | None:
        """The link and its partner's click settings, or None when either does not exist."""
        link = self._get(self._settings.table_name("LinksTable"), "link_id", link_id)
        if link is None:
            return None
        partner = self._get(self._settings.table_name("PartnersTable"), "partner_id", link["partner_id"]["S"])
        if partner is None:
            return None
        return LinkTarget(
            link_id=link_id,
            partner_id=partner["partner_id"]["S"],
            destination=link["destination"]["S"],
            active=link["status"]["S"] == "active",
            allowed_domains=tuple(entry["S"] for entry in partner["allowed_domains"]["L"]),
            fallback_url=partner.get("fallback_url", {}).get("S"),
            blocked_referrer_domains=tuple(
                entry["S"] for entry in partner.get("blocked_referrer_domains", {}).get("L", [])
            ),
            attribution_window_days=int(partner["attribution_window_days"]["N"]),
            time_zone=partner.get("time_zone", {}).get("S"),
        )

    def record(self, click: Click) -> bool:
        """Store a click; True when it is the first of its flood window, False for a repeat."""
        values = _click_values(click)
        names = {f"#{name}": name for name in (*values, "clicks", "last_clicked_at")}
        first_only = ", ".join(f"#{name} = if_not_exists(#{name}, :{name})" for name in values)
        try:
            answer = self.client.update_item(
                TableName=self._settings.table_name("ClicksTable"),
                Key={"click_id": {"S": click.click_id}},
                UpdateExpression=f"SET {first_only}, #last_clicked_at = :last_clicked_at ADD #clicks :one",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    **{f":{name}": value for name, value in values.items()},
                    ":last_clicked_at": values["clicked_at"],
                    ":one": {"N": "1"},
                },
                ReturnValues="UPDATED_OLD",
            )
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable("the click could not be recorded") from error
        return "clicks" not in answer.get("Attributes", {})
