"""The vocabulary of background checks, below every domain.

Personnel records checks of these types; region settings say which of them are mandatory
and how long a result stays valid. Both name the same types, so the list lives here, below
both, and neither domain imports the other for it (that import was a cycle).
"""

from __future__ import annotations

CHECK_TYPES = (
    "criminal_record",
    "sexual_offence_entry_query",
    "health_certificate",
    "conduct_reference",
    "mental_health",
)
# An adverse result of one of these bars the person everywhere until a lift is confirmed.
BARRING_CHECK_TYPES = frozenset({"criminal_record", "sexual_offence_entry_query"})
# The notice requires the criminal-record query; the 2020 rules the sexual-offence entry
# query for anyone in close contact with minors: no region may drop them.
ALWAYS_MANDATORY = BARRING_CHECK_TYPES
# Days a result without a printed expiry stays valid, unless a region says otherwise
# (see service/personnel/settings.py for why one year for every type).
DEFAULT_VALIDITY_DAYS = dict.fromkeys(CHECK_TYPES, 365)
