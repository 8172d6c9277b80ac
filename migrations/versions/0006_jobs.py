"""Background jobs: their state, progress, lease and outcome (the queue only wakes workers).

Create Date: 2026-12-03 03:23:15.802542

"""
from alembic import op
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'


INDEXES = ['relationship_id', 'requested_by_id', ('state', 'lease_expires_at')]
UNFINISHED = sa.text("state IN ('queued', 'running')")


def upgrade():
    create_table('jobs',
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=300), nullable=True),
    sa.Column('checkpoint', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('relationship_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('woken_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    checks=[('state', "state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')")],
    foreign_keys=[('relationship_id', 'relationships', 'CASCADE'), ('requested_by_id', 'users', 'SET NULL')],
    indexes=INDEXES,
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('uq_jobs_unfinished_idempotency_key', ['idempotency_key'], unique=True, postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_jobs_unfinished_idempotency_key', postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)
    drop_table('jobs', indexes=INDEXES)
