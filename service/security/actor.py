"""The Actor: who is acting, in which role and scope. Services take one of these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from service.regions import regions


class Role(StrEnum):
    VENDOR = "vendor"
    SCHOOL = "school"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    account_id: UUID | None
    role: Role
    region_code: str | None = None
    school_id: UUID | None = None
    vendor_credit_code: str | None = None

    @classmethod
    def system(cls) -> Actor:
        """The service itself (command line, scheduled jobs)."""
        return cls(account_id=None, role=Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def region_level(self) -> str | None:
        info = regions().get(self.region_code) if self.region_code else None
        return info.level if info else None

    def covers_region(self, region_code: str | None) -> bool:
        """May this actor see objects registered in `region_code`? Admins see all."""
        if self.is_admin:
            return True
        if not self.region_code or not region_code:
            return False
        return regions().within(region_code, self.region_code)

    def scope_regions(self) -> list[str] | None:
        """Every region code this actor covers; None means unrestricted."""
        if self.is_admin:
            return None
        if not self.region_code:
            return []
        return regions().descendants(self.region_code)
