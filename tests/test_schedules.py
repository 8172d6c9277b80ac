"""A wave's schedule: the worker's minute tick opens, reminds and closes on time, once however
often (and from however many sessions) it runs; the survey refuses answers after the closing
time even before the tick has closed the wave; the admin enters times on the organisation's
clock (UK time) and they are stored in UTC."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import AuditEvent, Job, Wave, WaveReminder
from survey_app.services.jobs.schedule import next_event, run_schedules
from tests.factories import date_fields, get_wave, submit, text


def _schedule(wave_id: int, **values) -> None:  # type: ignore[no-untyped-def]
    wave = db.session.get(Wave, wave_id)
    for name, value in values.items():
        setattr(wave, name, value)
    db.session.commit()


def _audited(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


def _jobs(kind: str) -> int:
    return db.session.scalar(select(func.count()).where(Job.kind == kind)) or 0


def test_the_tick_run_twice_opens_a_wave_once(factory, woken):
    wave_id = factory.wave(state="draft").id
    _schedule(wave_id, opens_at=utcnow() - timedelta(minutes=1))
    first, second = run_schedules(), run_schedules()
    assert (first.opened, second.opened) == ([wave_id], [])
    assert get_wave(wave_id).state == "open"
    assert _audited("wave.open") == 1


def test_a_wave_does_not_open_before_its_time(factory, woken):
    wave_id = factory.wave(state="draft").id
    _schedule(wave_id, opens_at=utcnow() + timedelta(minutes=5))
    assert run_schedules().opened == []
    assert get_wave(wave_id).state == "draft"


def test_the_tick_run_twice_starts_each_reminder_round_once(factory, woken, mailbox):
    wave_id = factory.wave().id
    opened = utcnow() - timedelta(days=4)
    _schedule(
        wave_id, opened_at=opened, reminder_days=[3, 7], closes_at=opened + timedelta(days=20)
    )
    assert run_schedules().reminded == [wave_id]
    assert run_schedules().reminded == []
    assert _jobs("mail.round") == 1
    assert db.session.scalars(select(WaveReminder.day)).all() == [3]
    db.session.execute(update(Job).values(state="succeeded"))  # the first round has been sent
    db.session.commit()
    # four days later the second reminder is due, once
    later = utcnow() + timedelta(days=4)
    assert run_schedules(later).reminded == [wave_id]
    assert run_schedules(later).reminded == []
    assert sorted(db.session.scalars(select(WaveReminder.day))) == [3, 7]
    assert _jobs("mail.round") == 2
    assert len(woken) == 2


def test_a_reminder_that_cannot_be_sent_is_recorded_once_with_the_reason(factory, woken):
    wave_id = factory.wave().id  # no mail server configured
    _schedule(wave_id, opened_at=utcnow() - timedelta(days=4), reminder_days=[3])
    run_schedules()
    run_schedules()
    (reminder,) = db.session.scalars(select(WaveReminder)).all()
    assert reminder.job_id is None
    assert reminder.outcome.startswith("Not sent: ")
    assert _jobs("mail.round") == 0


def test_the_tick_run_twice_closes_a_wave_once(factory):
    wave_id = factory.wave().id
    _schedule(wave_id, closes_at=utcnow() - timedelta(minutes=1))
    run_schedules()
    run_schedules()
    assert get_wave(wave_id).state == "closed"  # the queue runs jobs at once in tests
    assert _jobs("wave.close") == 1
    assert _audited("wave.close") == 1


def test_two_sessions_running_the_tick_at_once_open_and_close_once(app, factory, woken):
    rel = factory.relationship()
    draft = factory.wave(rel, "2024-Q1", state="draft").id
    open_ = factory.wave(rel, "2024-Q2").id
    _schedule(draft, opens_at=utcnow() - timedelta(minutes=1))
    _schedule(open_, closes_at=utcnow() - timedelta(minutes=1))
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def tick() -> None:
        with app.app_context():
            try:
                start.wait()
                run_schedules()
            except BaseException as exc:  # reported below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert get_wave(draft).state == "open"
    assert _audited("wave.open") == 2  # the other wave was opened by the factory
    assert _jobs("wave.close") == 1
    assert len(woken) == 1


def test_the_survey_refuses_answers_after_the_closing_time_before_the_tick(factory, client):
    wave = factory.wave()
    wave_id = wave.id
    (token,) = factory.tokens(wave)
    _schedule(wave_id, closes_at=utcnow() - timedelta(seconds=1))
    response = client.get(f"/s/{token}", follow_redirects=True)
    assert response.status_code == 410
    assert "This survey has closed" in text(response)
    assert get_wave(wave_id).state == "open"  # not closed yet: the tick does that


def test_the_admin_schedules_a_wave_on_uk_time(admin, factory):
    wave_id = factory.wave(state="draft").id
    summer = date(date.today().year + 1, 7, 1)
    fields = {
        **date_fields("opens_on", summer),
        "opens_time": "9am",
        **date_fields("closes_on", summer + timedelta(days=14)),
        "closes_time": "17:30",
        "reminder_days": "3, 7",
    }
    response = submit(admin, f"/admin/waves/{wave_id}/closing-date", fields)
    assert response.status_code == 302
    wave = get_wave(wave_id)
    assert wave.opens_at == datetime(summer.year, 7, 1, 8, 0)  # 9am BST is 8am UTC
    assert wave.closes_at == datetime(summer.year, 7, 15, 16, 30)
    assert wave.reminder_days == [3, 7]
    page = text(admin.get(f"/admin/waves/{wave_id}/"))
    assert f"9am on 1 July {summer.year}" in page
    assert f"5:30pm on 15 July {summer.year}" in page
    assert "UK time" in page
    assert next_event(wave) == (wave.opens_at, "Opens")


def test_a_schedule_that_cannot_work_is_refused_and_changes_nothing(admin, factory):
    wave_id = factory.wave(state="draft").id
    soon = date.today() + timedelta(days=5)
    refusals = {
        "reminder_days": ("3, x", "Reminder days must be whole numbers"),
        "closes_time": ("25:00", "Closing time must be a time"),
    }
    for name, (value, message) in refusals.items():
        fields = {**date_fields("closes_on", soon), name: value}
        response = submit(admin, f"/admin/waves/{wave_id}/closing-date", fields)
        assert response.status_code == 400, name
        assert message in text(response)
    late = {**date_fields("closes_on", soon), **date_fields("opens_on", soon), "reminder_days": "9"}
    response = submit(admin, f"/admin/waves/{wave_id}/closing-date", late)
    assert "after the wave closes" in text(response)
    wave = get_wave(wave_id)
    assert (wave.opens_at, wave.closes_at, wave.reminder_days) == (None, None, None)
