"""The drop's calendar: service year 2026 as day numbers, and their ISO text.

Claims work in day numbers (0 = 2026-01-01) so date arithmetic on the hot path is integer math.
"""

from __future__ import annotations

from datetime import date, timedelta

YEAR_START = date(2026, 1, 1)
DROP_DATE = date(2026, 12, 3)
LAST_DAY = (DROP_DATE - YEAR_START).days - 1  # 2026-12-02: nothing in the drop is later
YEAR_END = 364  # 2026-12-31, the end of an open coverage span within the year
JULY_1 = (date(2026, 7, 1) - YEAR_START).days

DAY_TEXT = tuple((YEAR_START + timedelta(days=d)).isoformat() for d in range(YEAR_END + 1))


def day_number(day: date) -> int:
    """Day number of a date, clipped to the service year."""
    return min(max((day - YEAR_START).days, 0), YEAR_END)
