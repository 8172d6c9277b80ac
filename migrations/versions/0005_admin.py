"""Survey administration: the address list of a wave (deleted when it closes) and managers' actions.

Create Date: 2026-11-26 12:00:00.000000

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table, stamped


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'


def upgrade():
    create_table('actions',
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
    stamped('created_at'),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    checks=[
        ('alert_side', "alert_side IS NULL OR alert_side IN ('client', 'supplier', 'all', 'gap')"),
        ('status', "status IN ('open', 'in_progress', 'done')"),
    ],
    foreign_keys=[
        ('alert_wave_id', 'waves', 'SET NULL'),
        ('baseline_wave_id', 'waves', 'SET NULL'),
        ('created_by_id', 'users', 'SET NULL'),
        ('relationship_id', 'relationships', 'CASCADE'),
    ],
    indexes=['relationship_id'],
    )
    create_table('invitation_addresses',
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
    foreign_keys=[
        ('invitation_id', 'invitations', 'SET NULL'),
        ('party_id', 'parties', 'CASCADE'),
        ('service_area_id', 'service_areas', 'CASCADE'),
        ('wave_id', 'waves', 'CASCADE'),
    ],
    unique=[('invitation_id',), ('wave_id', 'email')],
    indexes=['wave_id'],
    )


def downgrade():
    drop_table('invitation_addresses', indexes=['wave_id'])
    drop_table('actions', indexes=['relationship_id'])
