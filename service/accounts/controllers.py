"""HTTP for the caller's own account and token."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Request, delete, get

from service.accounts.services import revoke_token
from service.web.access import ANY_ROLE, access
from service.web.deps import DB, CurrentActor


class Me(msgspec.Struct):
    account_id: UUID | None
    role: str
    region_code: str | None
    school_id: UUID | None
    vendor_credit_code: str | None


@get("/api/v1/me", **access(*ANY_ROLE), tags=["accounts"])
async def me(actor: CurrentActor) -> Me:
    """Who the token belongs to, and its scope."""
    return Me(
        account_id=actor.account_id,
        role=actor.role.value,
        region_code=actor.region_code,
        school_id=actor.school_id,
        vendor_credit_code=actor.vendor_credit_code,
    )


@delete("/api/v1/tokens/current", **access(*ANY_ROLE), tags=["accounts"])
async def revoke_current_token(db: DB, actor: CurrentActor, request: Request) -> None:
    """Revoke the token this request was made with; it stops working at once."""
    token = request.headers["authorization"].partition(" ")[2].strip()
    await revoke_token(db, actor, token)
