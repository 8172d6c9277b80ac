"""Failed sign-in attempts, for rate limiting across workers (hashes and times only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_attempts_at'), ['at'], unique=False)
        batch_op.create_index('ix_sign_in_attempts_email_hash_at', ['email_hash', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_attempts_client_hash_at', ['client_hash', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempts_client_hash_at')
        batch_op.drop_index('ix_sign_in_attempts_email_hash_at')
        batch_op.drop_index(batch_op.f('ix_sign_in_attempts_at'))

    op.drop_table('sign_in_attempts')
