"""HTTP for region settings: GET resolves inheritance, PUT sets or clears fields."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, put
from litestar.params import JSONBody

from schemas.region_settings import (
    RegionSettingsOut,
    RegionSettingsUpdate,
    RegionSettingsValues,
)
from service.region_settings import services
from service.regions import regions
from service.security import Role
from service.web.access import ANY_ROLE, access
from service.web.deps import DB, CurrentActor
from service.web.params import PathText


def _list(value):
    return list(value) if value is not None else None


def settings_out(effective: services.EffectiveSettings) -> RegionSettingsOut:
    region = regions().require(effective.region_code)
    own = effective.own
    return RegionSettingsOut(
        region_code=region.code,
        region_name=region.name,
        level=region.level,
        notice_days=effective.notice_days,
        city_review_required=effective.city_review_required,
        mandatory_document_types=list(effective.mandatory_document_types),
        whitelist_validity_days=effective.whitelist_validity_days,
        mandatory_checks=sorted(effective.mandatory_checks),
        check_validity_days=dict(effective.check_validity_days),
        satisfaction_threshold_percent=effective.satisfaction_threshold_percent,
        own=RegionSettingsValues(
            notice_days=own["notice_days"],
            city_review_required=own["city_review_required"],
            mandatory_document_types=_list(own["mandatory_document_types"]),
            whitelist_validity_days=own["whitelist_validity_days"],
            mandatory_checks=_list(own["mandatory_checks"]),
            check_validity_days=own["check_validity_days"],
            satisfaction_threshold_percent=own["satisfaction_threshold_percent"],
        ),
        sources=dict(effective.sources),
    )


class RegionSettingsController(Controller):
    path = "/api/v1/regions/{region_code:str}/settings"
    tags = ["region settings"]

    @get("/", **access(*sorted(ANY_ROLE), errors=(404,)))
    async def read(self, db: DB, actor: CurrentActor, region_code: PathText) -> RegionSettingsOut:
        """The settings in force, each inherited from the parent region when unset here."""
        return settings_out(await services.read_settings(db, actor, region_code))

    @put("/", **access(Role.REVIEWER, Role.ADMIN, errors=(404, 422)))
    async def update(
        self, db: DB, actor: CurrentActor, region_code: PathText, data: JSONBody[RegionSettingsUpdate]
    ) -> RegionSettingsOut:
        """Admins, or reviewers of this region or one above it. Omitted fields stay as
        they are; `null` makes a field inherit from the parent region again."""
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}
        return settings_out(await services.update_settings(db, actor, region_code, changes))
