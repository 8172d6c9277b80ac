"""Waves offer languages: the instrument's translations, frozen when the wave opens.

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waves') as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('waves') as batch_op:
        batch_op.drop_column('translations')
