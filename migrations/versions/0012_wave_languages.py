"""Waves offer languages: the instrument's translations, frozen when the wave opens.

Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa

from survey_app.migration_ops import drop_column_in_place


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0007'


# Plain ALTER TABLE, never a batch "copy and move": rebuilding ``waves`` on SQLite drops the old
# table, and with foreign keys on that cascades to every invitation and response of the wave.
# SQLite has added and dropped columns in place since 3.35.


def upgrade():
    op.add_column('waves', sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    drop_column_in_place('waves', 'translations')
