"""What a click is: the request as the click function sees it, the link it resolves to, what is
stored, and the answer. Plain dataclasses: this is the hot path, and pydantic is not on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

SUB_IDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
SUB_ID_MAX_LENGTH = 100
USER_AGENT_MAX_LENGTH = 512
MEMBER_TOKEN_PARAMETER = "m"  # noqa: S105 - a query parameter name, not a secret
FLOOD_WINDOW_SECONDS = 60
# Clicks are kept for the partner's attribution window plus this margin (late postbacks, disputes).
RETENTION_MARGIN_DAYS = 7


@dataclass(frozen=True)
class ClickRequest:
    link_id: str
    method: str
    query: Mapping[str, list[str]]
    source_ip: str
    user_agent: str = ""
    referrer: str = ""


@dataclass(frozen=True)
class LinkTarget:
    """A link joined with the parts of its partner's configuration a click needs."""

    link_id: str
    partner_id: str
    destination: str
    active: bool
    allowed_domains: tuple[str, ...]
    fallback_url: str | None
    blocked_referrer_domains: tuple[str, ...]
    attribution_window_days: int
    time_zone: str | None = None  # the partner's reporting zone, stamped on its clicks


@dataclass(frozen=True)
class Click:
    """One stored click; repeats within its flood window are counted on it, not stored again."""

    click_id: str
    link_id: str
    partner_id: str
    member_id: str | None
    sub_ids: dict[str, str]
    clicked_at_ms: int
    ip_hash: str
    user_agent: str
    referrer_host: str | None
    bot: bool
    expires_at: int
    blocked: bool = False  # refused for its referrer: counted for the partner, never attributed
    time_zone: str | None = None


class Outcome(StrEnum):
    REDIRECTED = "redirected"
    FALLBACK = "fallback"
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class ClickAnswer:
    outcome: Outcome
    status: int
    location: str | None = None
    message: str = ""
    partner_id: str | None = None
    click_id: str | None = None
    recorded: bool = False
    unique: bool = False
    bot: bool = False
    blocked: bool = False
    member_token_rejected: bool = False
    # A click that could not be stored (DynamoDB unavailable): redirected anyway, logged whole.
    unrecorded: Click | None = None
    problems: list[str] = field(default_factory=list)
