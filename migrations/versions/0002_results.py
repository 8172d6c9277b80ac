"""Results of closed waves: one row per (wave, table) with the table's rows as JSON.

See survey_app/models/results.py for why the layout is a JSON blob per table.

Create Date: 2026-11-26 09:00:00.000000

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'


def upgrade():
    create_table('result_tables',
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
    foreign_keys=[('relationship_id', 'relationships', 'CASCADE'), ('wave_id', 'waves', 'CASCADE')],
    unique=[('wave_id', 'name')],
    indexes=['relationship_id', 'wave_id'],
    )


def downgrade():
    drop_table('result_tables', indexes=['relationship_id', 'wave_id'])
