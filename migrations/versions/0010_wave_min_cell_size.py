"""The k in force for a wave, fixed when it closes (DESIGN §4.14, issue 11).

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03 08:20:00

Existing closed waves take the k their stored results were computed with (any of their
result tables), so what they published stays as it was.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_cell_size', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE waves SET min_cell_size = (SELECT MIN(result_tables.min_cell_size) "
        "FROM result_tables WHERE result_tables.wave_id = waves.id)"
    )


def downgrade():
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.drop_column('min_cell_size')
