"""Wave schedules: an opening time, a closing time and reminder days, kept by the worker's tick.

``waves.opens_at`` and ``waves.closes_at`` are UTC times (entered and shown in the
organisation's time zone, ``TIME_ZONE``); ``closes_at`` replaces the closing *date*
``closes_on``, which becomes the end of that day in Europe/London. ``waves.reminder_days``
lists the days after opening on which a reminder round goes to those who have not submitted;
``wave_reminders`` holds one row per wave and day once that round was started (or skipped),
so that several workers running the schedule start each round once.

Create Date: 2026-12-03 09:10:00

"""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_column_in_place, drop_table


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'

# The zone a closing date was meant in before this revision (the service's default).
LONDON = ZoneInfo("Europe/London")

# Plain ALTER TABLE, never a batch "copy and move": rebuilding ``waves`` on SQLite drops the old
# table, and with foreign keys on that cascades to every invitation and response of the wave.


def upgrade():
    op.add_column('waves', sa.Column('opens_at', sa.DateTime(), nullable=True))
    op.add_column('waves', sa.Column('closes_at', sa.DateTime(), nullable=True))
    op.add_column('waves', sa.Column('reminder_days', sa.JSON(), nullable=True))
    bind = op.get_bind()
    for wave_id, closes_on in bind.execute(
        sa.text('SELECT id, closes_on FROM waves WHERE closes_on IS NOT NULL')
    ).all():
        day = closes_on if not isinstance(closes_on, str) else datetime.fromisoformat(closes_on).date()
        end = datetime.combine(day + timedelta(days=1), time(), LONDON)
        bind.execute(
            sa.text('UPDATE waves SET closes_at = :at WHERE id = :id'),
            {'at': end.astimezone(UTC).replace(tzinfo=None), 'id': wave_id},
        )
    drop_column_in_place('waves', 'closes_on')
    create_table(
        'wave_reminders',
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=300), nullable=True),
        foreign_keys=[('job_id', 'jobs', 'SET NULL'), ('wave_id', 'waves', 'CASCADE')],
        unique=[('wave_id', 'day')],
    )


def downgrade():
    drop_table('wave_reminders')
    op.add_column('waves', sa.Column('closes_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    for wave_id, closes_at in bind.execute(
        sa.text('SELECT id, closes_at FROM waves WHERE closes_at IS NOT NULL')
    ).all():
        moment = closes_at if not isinstance(closes_at, str) else datetime.fromisoformat(closes_at)
        local = (moment - timedelta(microseconds=1)).replace(tzinfo=UTC).astimezone(LONDON)
        bind.execute(
            sa.text('UPDATE waves SET closes_on = :on WHERE id = :id'),
            {'on': local.date(), 'id': wave_id},
        )
    drop_column_in_place('waves', 'reminder_days')
    drop_column_in_place('waves', 'closes_at')
    drop_column_in_place('waves', 'opens_at')
