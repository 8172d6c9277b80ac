"""Agreed targets per relationship and dimension; each party's consent to count in the norms;
each relationship's privacy notice details (controller, lawful basis, contact, retention).

Create Date: 2026-12-03 07:45:00

"""
from alembic import op

from survey_app.database import sqlite_foreign_keys_off
from survey_app.migration_ops import create_table, drop_table, stamped
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'

LAWFUL_BASIS = (
    "Public task (UK GDPR Article 6(1)(e)): understanding and improving how the partnership "
    "delivers public services"
)


def upgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        create_table('agreed_targets',
        sa.Column('relationship_id', sa.Integer(), nullable=False),
        sa.Column('dimension', sa.String(length=64), nullable=False),
        sa.Column('target', sa.Double(), nullable=False),
        sa.Column('agreed_on', sa.Date(), nullable=False),
        stamped('recorded_at'),
        checks=[('target_on_scale', 'target >= 1')],
        foreign_keys=[('relationship_id', 'relationships', 'CASCADE')],
        unique=[('relationship_id', 'dimension')],
        indexes=['relationship_id'],
        )

        with op.batch_alter_table('parties', schema=None) as batch_op:
            batch_op.add_column(sa.Column('in_norms', sa.Boolean(), server_default=sa.false(), nullable=False))

        with op.batch_alter_table('relationships', schema=None) as batch_op:
            batch_op.add_column(sa.Column('controller_side', sa.String(length=8), server_default='client', nullable=False))
            batch_op.add_column(sa.Column('lawful_basis', sa.String(length=300), server_default=LAWFUL_BASIS, nullable=False))
            batch_op.add_column(sa.Column('privacy_contact', sa.String(length=300), nullable=True))
            batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='24', nullable=False))


def downgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        with op.batch_alter_table('relationships', schema=None) as batch_op:
            batch_op.drop_column('retention_months')
            batch_op.drop_column('privacy_contact')
            batch_op.drop_column('lawful_basis')
            batch_op.drop_column('controller_side')

        with op.batch_alter_table('parties', schema=None) as batch_op:
            batch_op.drop_column('in_norms')

        drop_table('agreed_targets', indexes=['relationship_id'])
