"""Partners and links as the operator manages them. A link's destination is checked against its
partner's allowed domains whenever it is saved (and again by the click function when it is served)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from partnerpoints.dal.partner_store import PartnerStore
from partnerpoints.dal.signing_secret import read_signing_secret
from partnerpoints.destinations import destination_host, host_allowed
from partnerpoints.exceptions import AlreadyExists, InvalidField, PartnerNotFound
from partnerpoints.logic import postback_credentials
from partnerpoints.logic.earning import get_earning_rules
from partnerpoints.logic.postback_credentials import IssuedCredentials
from partnerpoints.models.partners import (
    Link,
    LinkSettings,
    MemberLink,
    NewLink,
    NewMemberLink,
    NewPartner,
    Partner,
    PartnerPage,
    PartnerSettings,
)
from partnerpoints.observability import logger
from partnerpoints.settings import get_settings
from partnerpoints.signing import ClickKeys

GENERATED_LINK_ID_BYTES = 6  # 8 URL-safe characters: 2^48 ids, collisions retried


def generated_link_id() -> str:
    """A random link id that starts with a letter or digit: one starting with "-" would read as an
    option on a command line (`partnerpoints admin link get -x...`)."""
    while True:
        link_id = secrets.token_urlsafe(GENERATED_LINK_ID_BYTES)
        if link_id[0].isalnum():
            return link_id


class PartnerDirectory:
    def __init__(self, store: PartnerStore, keys: Callable[[], ClickKeys]) -> None:
        self._store = store
        self._keys = keys

    @staticmethod
    def _check_currency_earns(settings: PartnerSettings) -> None:
        rules = get_earning_rules()
        if settings.currency not in rules.currencies:
            earning = ", ".join(sorted(rules.currencies))
            raise InvalidField(
                "the program's earning rules have no points rate for this currency",
                [{"path": "body.currency", "message": f"{settings.currency} is not one of {earning}"}],
            )

    def create_partner(self, partner: NewPartner) -> tuple[Partner, IssuedCredentials]:
        """The partner and its postback credentials, which the caller shows once and never again."""
        self._check_currency_earns(partner)
        issued = postback_credentials.issue(partner.partner_id)
        created = self._store.create_partner(partner, issued.credentials)
        logger.info("partner created", partner_id=partner.partner_id, domains=len(partner.allowed_domains))
        return created, issued

    def rotate_credentials(self, partner_id: str, grace: timedelta) -> tuple[IssuedCredentials, datetime]:
        """New postback credentials; the previous ones keep working until the returned time."""
        self._store.get_partner(partner_id)
        current = self._store.get_credentials(partner_id)
        now = datetime.now(UTC)
        issued = postback_credentials.rotate(current, partner_id, now, grace)
        self._store.replace_credentials(issued.credentials, current.revision if current else None, now)
        logger.info(
            "postback credentials rotated", partner_id=partner_id, grace_hours=grace / timedelta(hours=1)
        )
        return issued, now + grace

    def replace_partner(self, partner_id: str, settings: PartnerSettings) -> Partner:
        self._check_currency_earns(settings)
        replaced = self._store.replace_partner(NewPartner(partner_id=partner_id, **settings.model_dump()))
        logger.info("partner replaced", partner_id=partner_id)
        return replaced

    def get_partner(self, partner_id: str) -> Partner:
        return self._store.get_partner(partner_id)

    def list_partners(self, limit: int, cursor: str | None) -> PartnerPage:
        partners, next_cursor = self._store.list_partners(limit, cursor)
        return PartnerPage(
            partners=sorted(partners, key=lambda partner: partner.partner_id), next_cursor=next_cursor
        )

    def _partner_for_link(self, partner_id: str) -> Partner:
        try:
            return self._store.get_partner(partner_id)
        except PartnerNotFound as error:
            raise InvalidField(
                "the link names an unknown partner",
                [{"path": "body.partner_id", "message": f"no partner {partner_id}"}],
            ) from error

    @staticmethod
    def _check_destination(partner: Partner, destination: str) -> None:
        host = destination_host(destination)
        if not host_allowed(host, partner.allowed_domains):
            allowed = ", ".join(partner.allowed_domains)
            raise InvalidField(
                "the destination is not on the partner's allowed domains",
                [
                    {
                        "path": "body.destination",
                        "message": f"host {host} is not one of {allowed} or a subdomain of one",
                    }
                ],
            )

    def create_link(self, new: NewLink) -> Link:
        partner = self._partner_for_link(new.partner_id)
        self._check_destination(partner, new.destination)
        now = datetime.now(UTC)
        for _ in range(3):
            link_id = new.link_id or generated_link_id()
            link = Link(
                link_id=link_id,
                partner_id=new.partner_id,
                destination=new.destination,
                status=new.status,
                created_at=now,
                updated_at=now,
            )
            try:
                created = self._store.create_link(link)
            except AlreadyExists:
                if new.link_id:
                    raise
                continue  # a generated id collided: draw another
            logger.info("link created", link_id=link_id, partner_id=new.partner_id, status=new.status)
            return created
        raise AlreadyExists("could not draw an unused link id; try again")

    def replace_link(self, link_id: str, settings: LinkSettings) -> Link:
        current = self._store.get_link(link_id)
        self._check_destination(self._store.get_partner(current.partner_id), settings.destination)
        replaced = self._store.replace_link(
            current.model_copy(update={**settings.model_dump(), "updated_at": datetime.now(UTC)})
        )
        logger.info("link replaced", link_id=link_id, status=settings.status)
        return replaced

    def get_link(self, link_id: str) -> Link:
        return self._store.get_link(link_id)

    def member_link(self, request: NewMemberLink) -> MemberLink:
        """A link personal to one member: its `m` token attributes the member's clicks to them."""
        link = self._store.get_link(request.link_id)
        token = self._keys().member_token(request.member_id)
        logger.info("member link issued", link_id=link.link_id, member_id=request.member_id)
        return MemberLink(member_id=request.member_id, link_id=link.link_id, token=token)


@cache
def get_partner_directory() -> PartnerDirectory:
    settings = get_settings()
    return PartnerDirectory(
        PartnerStore(settings), cache(lambda: ClickKeys.from_secret(read_signing_secret(settings)))
    )
