"""Failed sign-in attempts, for rate limiting across workers (hashes and times only).

Create Date: 2026-11-26 10:00:00.000000

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'


INDEXES = ['at', ('email_hash', 'at'), ('client_hash', 'at')]


def upgrade():
    create_table('sign_in_attempts',
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    indexes=INDEXES,
    )


def downgrade():
    drop_table('sign_in_attempts', indexes=INDEXES)
