"""Agreed targets keep their history: one row per relationship, dimension and day agreed (a new
target no longer overwrites the old), and ``withdrawn_on`` for a target removed, so that a
past wave is read against the target as it stood then.

Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa

from survey_app.database import sqlite_foreign_keys_off


# revision identifiers, used by Alembic.
revision = '0016_target_history'
down_revision = '0015_texts'


def upgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        with op.batch_alter_table('agreed_targets', schema=None) as batch_op:
            batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
            batch_op.drop_constraint('uq_agreed_targets_relationship_id_dimension', type_='unique')
            batch_op.create_unique_constraint(
                batch_op.f('uq_agreed_targets_relationship_id_dimension_agreed_on'),
                ['relationship_id', 'dimension', 'agreed_on'],
            )


def downgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        # One row per dimension again: each dimension keeps its latest target, if it stands.
        op.execute(
            "DELETE FROM agreed_targets WHERE withdrawn_on IS NOT NULL OR EXISTS ("
            "SELECT 1 FROM agreed_targets later"
            " WHERE later.relationship_id = agreed_targets.relationship_id"
            " AND later.dimension = agreed_targets.dimension"
            " AND later.agreed_on > agreed_targets.agreed_on)"
        )
        with op.batch_alter_table('agreed_targets', schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f('uq_agreed_targets_relationship_id_dimension_agreed_on'), type_='unique'
            )
            batch_op.create_unique_constraint(
                'uq_agreed_targets_relationship_id_dimension', ['relationship_id', 'dimension']
            )
            batch_op.drop_column('withdrawn_on')
