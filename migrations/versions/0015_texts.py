"""Each wave's invitation and reminder texts, edited by its administrators, one row per saved
version (``wave_email_texts``; a wave without one uses the default texts).

Revision ID: 0015_texts
Revises: 0014
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_texts'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'wave_email_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sender_name', sa.String(length=100), nullable=False),
        sa.Column('team_email', sa.String(length=254), nullable=True),
        sa.Column('team_phone', sa.String(length=40), nullable=True),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('saved_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_email_texts_wave_id_waves'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wave_email_texts')),
        sa.UniqueConstraint('wave_id', 'version', name=op.f('uq_wave_email_texts_wave_id_version')),
    )
    op.create_index(op.f('ix_wave_email_texts_wave_id'), 'wave_email_texts', ['wave_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_wave_email_texts_wave_id'), table_name='wave_email_texts')
    op.drop_table('wave_email_texts')
