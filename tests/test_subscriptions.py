"""Push scheduling on the local wall clock, across DST, and quiet-hour windows."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from bot.subscriptions import in_window, next_push_at

UTC = timezone.utc
NEW_YORK = "America/New_York"


def test_next_push_is_today_or_tomorrow_local_time():
    after = datetime(2023, 2, 24, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert next_push_at("07:30", "Asia/Shanghai", after) == datetime(2023, 2, 23, 23, 30, tzinfo=UTC)
    assert next_push_at("06:30", "Asia/Shanghai", after) == datetime(2023, 2, 24, 22, 30, tzinfo=UTC)
    assert next_push_at("07:30", "Asia/Shanghai", after, skip_date="2023-02-24") == datetime(2023, 2, 24, 23, 30, tzinfo=UTC)


def test_push_stays_at_local_time_across_dst_changes():
    before_spring = datetime(2023, 3, 11, 12, 0, tzinfo=UTC)  # New York switches to EDT on 12 March
    assert next_push_at("07:30", NEW_YORK, before_spring) == datetime(2023, 3, 11, 12, 30, tzinfo=UTC)  # EST
    after = datetime(2023, 3, 11, 13, 0, tzinfo=UTC)
    assert next_push_at("07:30", NEW_YORK, after) == datetime(2023, 3, 12, 11, 30, tzinfo=UTC)  # EDT
    assert next_push_at("07:30", NEW_YORK, datetime(2023, 11, 5, 3, 0, tzinfo=UTC)) == datetime(2023, 11, 5, 12, 30, tzinfo=UTC)


def test_a_time_that_does_not_exist_that_day_still_gets_a_push():
    # 02:30 does not exist in New York on 12 March 2023; the push comes just after the gap
    when = next_push_at("02:30", NEW_YORK, datetime(2023, 3, 12, 5, 0, tzinfo=UTC))
    assert when.date().isoformat() == "2023-03-12" and when.astimezone(ZoneInfo(NEW_YORK)).hour == 3


def test_quiet_hours_wrap_midnight():
    assert in_window(time(23, 0), "22:00-07:00") and in_window(time(6, 59), "22:00-07:00")
    assert not in_window(time(7, 0), "22:00-07:00") and not in_window(time(12, 0), "22:00-07:00")
    assert in_window(time(13, 0), "12:00-14:00") and not in_window(time(14, 0), "12:00-14:00")
