"""The last number issued per series, region and (China) year.

One counter table serves every numbered thing people read aloud or cite: decision
letters (`letter`, `东湖教白〔2026〕17号`) and applications (`application`,
`赣白申〔2026〕360104-0017`). The counter row is taken in the transaction that uses
the number, so a rolled-back use leaves no gap and two uses never share a number.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class DocumentNumberCounter(SQLModel, table=True):
    __tablename__ = "document_number_counters"

    series: str = Field(max_length=16, primary_key=True)  # letter | application
    region_code: str = Field(foreign_key="regions.code", max_length=6, primary_key=True)
    year: int = Field(primary_key=True)
    last: int
