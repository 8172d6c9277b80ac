"""Each wave's invitation and reminder texts, edited by its administrators, one row per saved
version (``wave_email_texts``; a wave without one uses the default texts).

Create Date: 2026-12-03 11:00:00

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table, stamped


# revision identifiers, used by Alembic.
revision = '0015_texts'
down_revision = '0014'


def upgrade():
    create_table(
        'wave_email_texts',
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sender_name', sa.String(length=100), nullable=False),
        sa.Column('team_email', sa.String(length=254), nullable=True),
        sa.Column('team_phone', sa.String(length=40), nullable=True),
        sa.Column('texts', sa.JSON(), nullable=False),
        stamped('saved_at'),
        foreign_keys=[('wave_id', 'waves', 'CASCADE')],
        unique=[('wave_id', 'version')],
        indexes=['wave_id'],
    )


def downgrade():
    drop_table('wave_email_texts', indexes=['wave_id'])
