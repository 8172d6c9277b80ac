"""The k-anonymous release of each closed wave's raw responses, stored with its results.

One row per side × service area × role level group of a closed wave: its size and which of its
quasi-identifiers the ``responses`` download generalises (or that it is withheld)
(``survey_app.models.ReleasedGroup``; issue 11 part 2). Computed when results are stored;
waves closed before this revision are computed at download time until
``relhealth recompute`` stores theirs.

Create Date: 2026-12-03 17:30:00

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table, reference


# revision identifiers, used by Alembic.
revision = '0022_release'
down_revision = '0021_audit'


def upgrade():
    create_table('released_groups',
    reference('wave_id', 'waves', 'CASCADE'),
    sa.Column('side', sa.String(length=8), nullable=False),
    reference('service_area_id', 'service_areas', nullable=True),
    sa.Column('role_level', sa.String(length=20), nullable=True),
    sa.Column('n_responses', sa.Integer(), nullable=False),
    sa.Column('min_cell_size', sa.Integer(), nullable=False),
    sa.Column('side_generalised', sa.Boolean(), nullable=False),
    sa.Column('area_generalised', sa.Boolean(), nullable=False),
    sa.Column('role_generalised', sa.Boolean(), nullable=False),
    sa.Column('withheld', sa.Boolean(), nullable=False),
    indexes=['wave_id'],
    )


def downgrade():
    drop_table('released_groups', indexes=['wave_id'])
