"""Per-user API tokens (SHA-256 hashes only) for the read-only JSON API.

Create Date: 2026-11-26 11:00:00.000000

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'


def upgrade():
    create_table('api_tokens',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    foreign_keys=[('user_id', 'users', 'CASCADE')],
    unique=[('token_hash',)],
    indexes=['user_id'],
    )


def downgrade():
    drop_table('api_tokens', indexes=['user_id'])
