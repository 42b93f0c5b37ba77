"""Role tags: who may take a workflow action.

A role tag is not an account role. The service computes the tags of an actor from the
account (its role and the level of its region) before asking the engine:

- ``vendor``: the account of the vendor that owns the application (or the order);
- ``school``: the account of the school that placed an order;
- ``county_reviewer`` / ``city_reviewer`` / ``province_reviewer``: a bureau reviewer
  whose region is the application's county, the parent city, or the province;
- ``requester``: the reviewer who made a pending request (a whitelist action, a bar lift);
- ``system``: the service itself acting automatically (e.g. the end of a notice period);
- ``admin``: an administrator. Known to the tables, but given no review decisions.
"""

from __future__ import annotations

from enum import StrEnum


class RoleTag(StrEnum):
    VENDOR = "vendor"
    SCHOOL = "school"
    COUNTY_REVIEWER = "county_reviewer"
    CITY_REVIEWER = "city_reviewer"
    PROVINCE_REVIEWER = "province_reviewer"
    REQUESTER = "requester"
    SYSTEM = "system"
    ADMIN = "admin"


ROLE_LABELS: dict[str, str] = {
    RoleTag.VENDOR: "第三方机构",
    RoleTag.SCHOOL: "学校",
    RoleTag.COUNTY_REVIEWER: "县级审核人员",
    RoleTag.CITY_REVIEWER: "市级审核人员",
    RoleTag.PROVINCE_REVIEWER: "省级审核人员",
    RoleTag.REQUESTER: "申请人（提出申请的审核人员）",
    RoleTag.SYSTEM: "系统自动",
    RoleTag.ADMIN: "系统管理员",
}
