"""The k in force for a wave, fixed when its results are first computed (DESIGN §4.14,
issue 11).

Existing waves with results take the k their stored results were computed with, so what they
published stays as it was.

Create Date: 2026-12-03 11:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_audit'
down_revision = '0020_themes'


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
