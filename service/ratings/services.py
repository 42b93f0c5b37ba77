"""Ratings at term end and the automatic re-review (Heilongjiang's three-level evaluation,
Guangdong's 80 % rule).

- The school rates each of its accepted orders once, in the rating window: from
  `OPENS_BEFORE_END` days before the term's last day to `CLOSES_AFTER_END` days after.
- Pupils and parents rate through one-time codes the school hands out (`issue_codes`,
  at most the order's class size in all). A code is stored only as a keyed hash and
  is used once; the rating keeps no link to it, so it is anonymous and counted once.
- After every rating, the item's satisfaction in the school's region for the term
  (satisfied ratings / all ratings, school and public, over every order of the item
  there) is compared with the region's `satisfaction_threshold_percent` (default 80).
  Once at least `MIN_RATINGS` ratings are in, a share below it opens a **re-review**
  (`item_re_reviews`), in the same transaction, once per item, region and term.

A re-review is a new state the reviewer sees, with no four eyes: it is a flag with the
numbers, not a decision. It is not a whitelist action because a whitelist request needs
a requesting reviewer (the first pair of eyes) and the service is not one, and because an
automatic suspension would block orders in force over a statistic before anyone looked.
The reviewer reads it (`GET /api/v1/regions/{region}/re-reviews`), acts with the
whitelist's own actions (suspend at once, or revoke with four eyes) as needed, and closes
it with a reason.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.audit import record_event
from service.db import Database
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.orders import OrderFacts, order_facts
from service.ratings.models import ItemReReview, OrderRating, RatingCode
from service.reason import clean_reason
from service.region_settings import effective_settings
from service.regions import regions
from service.security import Actor, Keyring, Role
from service.timeutil import today_in_china, utcnow
from workflows.school_order import ACCEPTED

OPENS_BEFORE_END = timedelta(days=14)
CLOSES_AFTER_END = timedelta(days=60)
MIN_RATINGS = 5
MAX_CODES_PER_CALL = 200
CODE_DOMAIN = "schoolgate.ratings.code\x00"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Satisfaction:
    satisfied: int
    ratings: int
    threshold_percent: int
    re_review_id: UUID | None  # the item's re-review in the region and term, if one is open

    @property
    def share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None


@dataclass(frozen=True)
class RatingResult:
    order_id: UUID
    rater: str
    satisfied: bool
    satisfaction: Satisfaction


def below_threshold(satisfied: int, ratings: int, threshold_percent: int) -> bool:
    """Enough ratings, and a satisfied share below the threshold (integers: no rounding)."""
    return ratings >= MIN_RATINGS and satisfied * 100 < threshold_percent * ratings


def _window_problem(facts: OrderFacts, today: date) -> str | None:
    opens, closes = facts.term_ends_on - OPENS_BEFORE_END, facts.term_ends_on + CLOSES_AFTER_END
    if today < opens:
        return f"评价于 {opens.isoformat()}（学期结束前两周）开始"
    if today > closes:
        return f"评价已于 {closes.isoformat()} 截止"
    return None


def _rateable(facts: OrderFacts | None, now: datetime) -> OrderFacts:
    if facts is None:
        raise NotFound("未找到该订单", code="order_not_found")
    if facts.state != ACCEPTED:
        raise Conflict("只有机构已接单的订单可以评价", code="order_not_rateable")
    problem = _window_problem(facts, today_in_china(now))
    if problem:
        raise Conflict(problem, code="rating_window_closed")
    return facts


def _code_hash(keyring: Keyring, code: str) -> str:
    compact = "".join(ch for ch in (code or "").upper() if ch.isalnum()).removeprefix("PJ")
    return keyring.blind_index(CODE_DOMAIN + compact)


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"PJ-{raw[:5]}-{raw[5:]}"


async def _satisfaction(session: AsyncSession, facts: OrderFacts, actor: Actor, now: datetime) -> Satisfaction:
    """Count the item's ratings in the region and term; open the re-review when below."""
    satisfied, ratings = (
        await session.exec(
            select(func.count().filter(col(OrderRating.satisfied)), func.count()).where(
                OrderRating.service_item_id == facts.service_item_id,
                OrderRating.region_code == facts.region_code,
                OrderRating.term_id == facts.term_id,
            )
        )
    ).one()
    threshold = (await effective_settings(session, facts.region_code)).satisfaction_threshold_percent
    if below_threshold(satisfied, ratings, threshold):
        # sqlmodel types exec() without INSERT … RETURNING; it runs as in SQLAlchemy (ignore below).
        opened = (
            await session.exec(
                insert(ItemReReview)  # type: ignore[call-overload]
                .values(
                    id=uuid4(),
                    service_item_id=facts.service_item_id,
                    vendor_id=facts.vendor_id,
                    region_code=facts.region_code,
                    term_id=facts.term_id,
                    satisfied=satisfied,
                    ratings=ratings,
                    threshold_percent=threshold,
                    state="open",
                    opened_at=now,
                )
                .on_conflict_do_nothing(constraint="uq_item_re_reviews_item_region_term")
                .returning(ItemReReview.id)
            )
        ).first()
        if opened is not None:
            await record_event(
                session,
                Actor.system(),
                "ratings:re_review:open",
                "item_re_review",
                opened[0],
                region_code=facts.region_code,
                changes={
                    "state": {"before": None, "after": "open"},
                    "service_item_id": {"before": None, "after": facts.service_item_id},
                    "satisfied": {"before": None, "after": satisfied},
                    "ratings": {"before": None, "after": ratings},
                    "threshold_percent": {"before": None, "after": threshold},
                },
            )
    review = (
        await session.exec(
            select(ItemReReview.id).where(
                ItemReReview.service_item_id == facts.service_item_id,
                ItemReReview.region_code == facts.region_code,
                ItemReReview.term_id == facts.term_id,
                ItemReReview.state == "open",
            )
        )
    ).first()
    return Satisfaction(satisfied, ratings, threshold, review)


async def _store(
    session: AsyncSession, actor: Actor, facts: OrderFacts, rater: str, satisfied: bool, now: datetime
) -> RatingResult:
    rating = OrderRating(
        order_id=facts.order_id,
        service_item_id=facts.service_item_id,
        term_id=facts.term_id,
        region_code=facts.region_code,
        rater=rater,
        satisfied=satisfied,
        created_at=now,
    )
    session.add(rating)
    await session.flush()
    await record_event(
        session,
        actor,
        f"ratings:rating:{rater}",
        "order_rating",
        rating.id,
        region_code=facts.region_code,
        changes={
            "order_id": {"before": None, "after": facts.order_id},
            "satisfied": {"before": None, "after": satisfied},
        },
    )
    return RatingResult(facts.order_id, rater, satisfied, await _satisfaction(session, facts, actor, now))


def _own_order(actor: Actor, facts: OrderFacts | None) -> OrderFacts | None:
    if facts is not None and not (actor.role is Role.SCHOOL and actor.school_id == facts.school_id):
        return None  # another school's order is not found
    return facts


async def rate_as_school(
    db: Database, actor: Actor, order_id: UUID, satisfied: bool, *, now: datetime | None = None
) -> RatingResult:
    """The school rates one of its accepted orders, once, in the rating window."""
    now = now or utcnow()
    async with db.transaction() as session:
        facts = _rateable(_own_order(actor, await order_facts(session, order_id, lock=True)), now)
        exists = (
            await session.exec(
                select(OrderRating.id).where(OrderRating.order_id == order_id, OrderRating.rater == "school")
            )
        ).first()
        if exists is not None:
            raise Conflict("本校已评价过该订单", code="already_rated")
        return await _store(session, actor, facts, "school", satisfied, now)


async def issue_codes(
    db: Database, keyring: Keyring, actor: Actor, order_id: UUID, count: int, *, now: datetime | None = None
) -> list[str]:
    """One-time codes for pupils and parents (shown once; at most the class size in all)."""
    now = now or utcnow()
    async with db.transaction() as session:
        facts = _own_order(actor, await order_facts(session, order_id, lock=True))
        if facts is None:
            raise NotFound("未找到该订单", code="order_not_found")
        if facts.state != ACCEPTED:
            raise Conflict("只有机构已接单的订单可以发放评价码", code="order_not_rateable")
        issued = (
            await session.exec(select(func.count()).select_from(RatingCode).where(RatingCode.order_id == order_id))
        ).one()
        if count < 1 or count > MAX_CODES_PER_CALL or issued + count > facts.class_size:
            raise InvalidInput.field(
                "count",
                "invalid_count",
                f"评价码数量须为 1 至 {min(MAX_CODES_PER_CALL, facts.class_size - issued)} 之间"
                f"（每单合计不超过班额 {facts.class_size}，已发放 {issued}）",
            )
        codes = [new_code() for _ in range(count)]
        session.add_all(
            [RatingCode(code_hash=_code_hash(keyring, c), order_id=order_id, created_at=now) for c in codes]
        )
        await record_event(
            session,
            actor,
            "ratings:codes:issue",
            "school_order",
            order_id,
            region_code=facts.region_code,
            changes={"codes": {"before": issued, "after": issued + count}},
        )
        return codes


async def rate_with_code(
    db: Database, keyring: Keyring, code: str, satisfied: bool, *, now: datetime | None = None
) -> RatingResult:
    """A pupil or parent rates an order with a one-time code (no account; anonymous)."""
    now = now or utcnow()
    async with db.transaction() as session:
        row = (
            await session.exec(
                select(RatingCode).where(RatingCode.code_hash == _code_hash(keyring, code)).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("评价码无效", code="rating_code_not_found")
        if row.used_at is not None:
            raise Conflict("该评价码已使用过", code="rating_code_used")
        facts = _rateable(await order_facts(session, row.order_id), now)
        row.used_at = now
        session.add(row)
        return await _store(session, Actor.system(), facts, "public", satisfied, now)


# -------------------------------------------------------------------- re-reviews


def _staff_in(actor: Actor, region_code: str) -> None:
    if actor.role not in (Role.REVIEWER, Role.AUDITOR, Role.ADMIN) or not actor.covers_region(region_code):
        raise NotFound("行政区划不在权限范围内", code="region_not_found")


async def list_re_reviews(
    db: Database, actor: Actor, region_code: str, *, state: str | None = "open"
) -> list[ItemReReview]:
    """The re-reviews of the region and the regions inside it, oldest first."""
    if regions().get(region_code) is None:
        raise NotFound("行政区划代码不存在", code="region_not_found")
    _staff_in(actor, region_code)
    if state is not None and state not in ("open", "closed"):
        raise InvalidInput.field("status", "invalid_status", "状态须为 open 或 closed")
    async with db.transaction() as session:
        query = select(ItemReReview).where(col(ItemReReview.region_code).in_(regions().descendants(region_code)))
        if state is not None:
            query = query.where(ItemReReview.state == state)
        return list((await session.exec(query.order_by(col(ItemReReview.opened_at), col(ItemReReview.id)))).all())


async def items_below_threshold(session: AsyncSession, region_codes: list[str]) -> list[ItemReReview]:
    """Open re-reviews of these regions (for the dashboard: items below the threshold)."""
    return list(
        (
            await session.exec(
                select(ItemReReview)
                .where(col(ItemReReview.region_code).in_(region_codes), ItemReReview.state == "open")
                .order_by(col(ItemReReview.opened_at))
            )
        ).all()
    )


async def close_re_review(
    db: Database, actor: Actor, review_id: UUID, reason: str | None, *, now: datetime | None = None
) -> ItemReReview:
    """A reviewer in scope closes a re-review with a reason (what was done, or why nothing)."""
    now = now or utcnow()
    cleaned = clean_reason(reason, required=True, limit=2000)
    async with db.transaction() as session:
        review = (
            await session.exec(select(ItemReReview).where(ItemReReview.id == review_id).with_for_update())
        ).first()
        if review is None or not actor.covers_region(review.region_code):
            raise NotFound("未找到该复核", code="re_review_not_found")
        if actor.role is not Role.REVIEWER:
            raise Forbidden("只有审核人员可以办结复核", code="reviewer_only")
        if review.state != "open":
            raise Conflict("该复核已办结", code="re_review_closed")
        review.state, review.closed_at, review.closed_by, review.close_reason = "closed", now, actor.account_id, cleaned
        session.add(review)
        await record_event(
            session,
            actor,
            "ratings:re_review:close",
            "item_re_review",
            review.id,
            region_code=review.region_code,
            reason=cleaned,
            changes={"state": {"before": "open", "after": "closed"}},
        )
        return review
