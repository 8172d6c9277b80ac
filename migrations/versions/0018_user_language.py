"""Each signed-in user's language (en, cy, or empty: never chosen), for their pages and the
emails sent to them (issue 17: a Welsh public body records each person's language preference
and uses it in system-generated email).

Create Date: 2026-12-03 10:55:00

"""
from alembic import op
import sqlalchemy as sa

from survey_app.migration_ops import drop_column_in_place


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0016_target_history'


# Plain ALTER TABLE, as 0013: no batch rebuild of `users`, which other tables point at. The
# allowed values are checked by the service that writes them (services/accounts/users.py).


def upgrade():
    op.add_column('users', sa.Column('language', sa.String(2), nullable=True))


def downgrade():
    drop_column_in_place('users', 'language')
