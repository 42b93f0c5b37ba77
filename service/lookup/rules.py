"""What every lookup checks of its input before reading anything: the credit code, the
region it is judged for, and the instant it is asked about."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from service.errors import InvalidInput
from service.identifiers import InvalidIdentifier, validate_credit_code
from service.regions import regions
from service.security import Actor, Role


def check_credit_code(raw: str) -> str:
    try:
        return _valid_credit_code(raw)
    except InvalidIdentifier as error:
        raise InvalidInput.field("credit_code", error.code, error.message) from None


@lru_cache(maxsize=65_536)
def _valid_credit_code(raw: str) -> str:
    """Validation is pure and costs ~40 µs (python-stdnum plus the GB 11714 warning):
    remembered per raw input (a bad one raises, and is not remembered)."""
    return validate_credit_code(raw).code


def lookup_region(actor: Actor, region: str | None) -> str:
    """The region a lookup is judged for: a school's own; for reviewers, auditors and
    admins the `region` asked (inside their scope), else their own region."""
    if actor.role is Role.SCHOOL:
        if region is not None and region != actor.region_code:
            raise InvalidInput.field("region", "region_not_allowed", "学校账号只能按本校所在地区查询")
        if not actor.region_code:
            raise InvalidInput.field("region", "unknown_region", "学校账号未绑定地区")
        return actor.region_code
    if region is None:
        if actor.region_code:
            return actor.region_code
        raise InvalidInput.field("region", "region_required", "请用 region 参数指定按哪个地区判断")
    regions().require(region, "region")
    if not actor.covers_region(region):
        raise InvalidInput.field("region", "region_not_allowed", "只能按本辖区内的地区查询")
    return region


def check_as_of(as_of: datetime | None, now: datetime) -> datetime:
    if as_of is None:
        return now
    if as_of.tzinfo is None:
        raise InvalidInput.field("as_of", "invalid_as_of", "as_of 须为带时区的时刻，例如 2026-09-01T08:00:00+08:00")
    if as_of > now:
        raise InvalidInput.field("as_of", "as_of_in_future", "as_of 不能晚于当前时间")
    return as_of.astimezone(UTC)
