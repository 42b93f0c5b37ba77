"""The regions table: reference data loaded by a migration from jiangxi.csv."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Region(SQLModel, table=True):
    __tablename__ = "regions"

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)  # province | city | county
    parent_code: str | None = Field(default=None, foreign_key="regions.code", max_length=6)
