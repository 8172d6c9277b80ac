"""Initial schema: relationships, instruments, waves, invitations, responses, users, audit.

Responses, answers and comments are WITHOUT ROWID on SQLite so that storage order does
not follow submission order (anonymity, DESIGN §2).

Create Date: 2026-11-25 14:45:34.067360

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table, stamped


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None


def upgrade():
    create_table('instrument_versions',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    stamped('frozen_at'),
    unique=[('key', 'version')],
    )
    create_table('relationships',
    sa.Column('name', sa.String(length=200), nullable=False),
    stamped('created_at'),
    unique=[('name',)],
    )
    create_table('users',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    stamped('created_at'),
    checks=[('role', "role IN ('admin', 'manager', 'reviewer')")],
    unique=[('email',)],
    )
    create_table('audit_events',
    stamped('at'),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    foreign_keys=[('user_id', 'users', 'SET NULL')],
    indexes=['at'],
    )
    create_table('parties',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    checks=[('side', "side IN ('client', 'supplier')")],
    foreign_keys=[('relationship_id', 'relationships', 'CASCADE')],
    unique=[('relationship_id', 'side')],
    )
    create_table('service_areas',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    foreign_keys=[('relationship_id', 'relationships', 'CASCADE')],
    unique=[('relationship_id', 'key'), ('relationship_id', 'name')],
    )
    create_table('waves',
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    stamped('created_at'),
    checks=[('state', "state IN ('draft', 'open', 'closed')")],
    foreign_keys=[
        ('instrument_version_id', 'instrument_versions', None),
        ('relationship_id', 'relationships', 'CASCADE'),
    ],
    unique=[('relationship_id', 'label')],
    )
    create_table('invitations',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('service_area_id', sa.Integer(), nullable=True),
    sa.Column('role_level', sa.String(length=20), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=True),
    foreign_keys=[
        ('party_id', 'parties', None),
        ('service_area_id', 'service_areas', None),
        ('wave_id', 'waves', 'CASCADE'),
    ],
    unique=[('token_hash',)],
    indexes=['wave_id'],
    )
    create_table('responses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('service_area_id', sa.Integer(), nullable=True),
    sa.Column('role_level', sa.String(length=20), nullable=True),
    checks=[('side', "side IN ('client', 'supplier')")],
    foreign_keys=[
        ('instrument_version_id', 'instrument_versions', None),
        ('service_area_id', 'service_areas', None),
        ('wave_id', 'waves', 'CASCADE'),
    ],
    indexes=['wave_id'],
    sqlite_with_rowid=False,
    )
    create_table('answers',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('item_no', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    foreign_keys=[('response_id', 'responses', 'CASCADE')],
    key=('response_id', 'item_no'),
    sqlite_with_rowid=False,
    )
    create_table('comments',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('question_key', sa.String(length=60), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    foreign_keys=[('response_id', 'responses', 'CASCADE')],
    key=('response_id', 'question_key'),
    sqlite_with_rowid=False,
    )
    create_table('drafts',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    foreign_keys=[
        ('token_hash', 'invitations.token_hash', 'CASCADE'),
        ('wave_id', 'waves', 'CASCADE'),
    ],
    key=('token_hash',),
    indexes=['wave_id'],
    )


def downgrade():
    drop_table('drafts', indexes=['wave_id'])
    drop_table('comments')
    drop_table('answers')
    drop_table('responses', indexes=['wave_id'])
    drop_table('invitations', indexes=['wave_id'])
    drop_table('waves')
    drop_table('service_areas')
    drop_table('parties')
    drop_table('audit_events', indexes=['at'])
    drop_table('users')
    drop_table('relationships')
    drop_table('instrument_versions')
