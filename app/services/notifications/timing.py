"""When things happen in the user's own time: digest times, quiet hours, reminder moments.

Pure functions over aware datetimes. Wall-clock arithmetic is done in the user's IANA time
zone, so "1 day before" or "every day at 08:00" stays at the same local time across a
daylight-saving change (23 or 25 hours apart in UTC), and quiet hours may wrap midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models.preferences import NotificationPreferences, QuietHours


def clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, when: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, when, tzinfo=zone).astimezone(UTC)


def next_at(after: datetime, when: time, zone: ZoneInfo) -> datetime:
    """The first moment strictly after `after` whose local time in `zone` is `when`."""
    local = after.astimezone(zone)
    candidate = _at(local.date(), when, zone)
    if candidate <= after:
        candidate = _at(local.date() + timedelta(days=1), when, zone)
    return candidate


def quiet_until(moment: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """When the quiet window containing `moment` ends, or None if `moment` is not in one."""
    if quiet is None:
        return None
    start, end = clock(quiet.start), clock(quiet.end)
    if start == end:
        return None
    local = moment.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:  # wraps midnight: 22:00-07:00
        inside = now >= start or now < end
        end_day = local.date() if now < end else local.date() + timedelta(days=1)
    return _at(end_day, end, zone) if inside else None


def out_of_quiet_hours(moment: datetime, prefs: NotificationPreferences) -> datetime:
    """`moment`, or the end of the quiet window it falls in (e-mail waits for the window)."""
    until = quiet_until(moment, prefs.quiet_hours, ZoneInfo(prefs.timezone))
    return until if until is not None else moment


def next_digest_at(after: datetime, prefs: NotificationPreferences) -> datetime:
    """The user's next digest time (their clock and zone), moved out of quiet hours."""
    zone = ZoneInfo(prefs.timezone)
    return out_of_quiet_hours(next_at(after, clock(prefs.digest_time), zone), prefs)


def is_weekly_day(moment: datetime, prefs: NotificationPreferences) -> bool:
    return moment.astimezone(ZoneInfo(prefs.timezone)).weekday() == prefs.digest_weekday


def days_before(target: datetime, days: int, zone: ZoneInfo) -> datetime:
    """`days` calendar days before `target` at the same local time in `zone`."""
    local = target.astimezone(zone)
    earlier = datetime.combine(
        local.date() - timedelta(days=days), local.timetz().replace(tzinfo=None)
    )
    return earlier.replace(tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, zone_name: str) -> str:
    """'15 March 2027' in the reader's zone (what e-mails and change notes show)."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local.day} {local:%B %Y}"


def local_datetime(moment: datetime, zone_name: str) -> str:
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local.day} {local:%B %Y, %H:%M} ({zone_name})"
