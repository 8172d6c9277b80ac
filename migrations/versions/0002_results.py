"""Results of closed waves: one row per (wave, table) with the table's rows as JSON.

See survey_app/models/results.py for why the layout is a JSON blob per table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('result_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=12), nullable=False),
    sa.Column('analysis_version', sa.String(length=20), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('min_cell_size', sa.Integer(), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_result_tables_relationship_id_relationships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_result_tables_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_tables')),
    sa.UniqueConstraint('wave_id', 'name', name=op.f('uq_result_tables_wave_id_name'))
    )
    with op.batch_alter_table('result_tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_tables_relationship_id'), ['relationship_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_tables_wave_id'), ['wave_id'], unique=False)


def downgrade():
    with op.batch_alter_table('result_tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_tables_wave_id'))
        batch_op.drop_index(batch_op.f('ix_result_tables_relationship_id'))

    op.drop_table('result_tables')
