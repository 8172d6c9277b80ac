"""The language of each address on a wave's list (en, cy, or empty: not known).

Kept only on the address list, which is deleted when the wave closes, and on the link it
sends: never on a response (a language is a quasi-identifier).

Create Date: 2026-12-03 09:05:00

"""
from alembic import op
import sqlalchemy as sa

from survey_app.migration_ops import drop_column_in_place


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0011'


# Plain ALTER TABLE, as 0012: no batch rebuild of a table other tables point at. The allowed
# values are checked by the service that writes them (services/imports/staff_lists.py).


def upgrade():
    op.add_column('invitation_addresses', sa.Column('language', sa.String(2), nullable=True))


def downgrade():
    drop_column_in_place('invitation_addresses', 'language')
