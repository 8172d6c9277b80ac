"""Survey administration: the address list of a wave (deleted when it closes) and managers' actions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('dimension_key', sa.String(length=60), nullable=False),
    sa.Column('alert_wave_id', sa.Integer(), nullable=True),
    sa.Column('alert_side', sa.String(length=8), nullable=True),
    sa.Column('alert_area', sa.String(length=60), nullable=True),
    sa.Column('baseline_wave_id', sa.Integer(), nullable=True),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("alert_side IS NULL OR alert_side IN ('client', 'supplier', 'all', 'gap')", name=op.f('ck_actions_alert_side')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done')", name=op.f('ck_actions_status')),
    sa.ForeignKeyConstraint(['alert_wave_id'], ['waves.id'], name=op.f('fk_actions_alert_wave_id_waves'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['baseline_wave_id'], ['waves.id'], name=op.f('fk_actions_baseline_wave_id_waves'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_actions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['relationship_id'], ['relationships.id'], name=op.f('fk_actions_relationship_id_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_relationship_id'), ['relationship_id'], unique=False)

    op.create_table('invitation_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('service_area_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('invited_on', sa.Date(), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('last_sent_on', sa.Date(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invitation_addresses_invitation_id_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_invitation_addresses_party_id_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_area_id'], ['service_areas.id'], name=op.f('fk_invitation_addresses_service_area_id_service_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_invitation_addresses_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_addresses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_invitation_addresses_invitation_id')),
    sa.UniqueConstraint('wave_id', 'email', name=op.f('uq_invitation_addresses_wave_id_email'))
    )
    with op.batch_alter_table('invitation_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_addresses_wave_id'), ['wave_id'], unique=False)



def downgrade():
    with op.batch_alter_table('invitation_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_addresses_wave_id'))

    op.drop_table('invitation_addresses')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_relationship_id'))

    op.drop_table('actions')
