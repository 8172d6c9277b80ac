"""Initial schema: relationships, instruments, waves, invitations, responses, users, audit.

Responses, answers and comments are WITHOUT ROWID on SQLite so that storage order does
not follow submission order (anonymity, DESIGN §2).

Create Date: 2026-11-25 14:45:34.067360

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table, reference, stamped


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
    reference('user_id', 'users', 'SET NULL', nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    indexes=['at'],
    )
    create_table('parties',
    reference('relationship_id', 'relationships', 'CASCADE'),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    checks=[('side', "side IN ('client', 'supplier')")],
    unique=[('relationship_id', 'side')],
    )
    create_table('service_areas',
    reference('relationship_id', 'relationships', 'CASCADE'),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    unique=[('relationship_id', 'key'), ('relationship_id', 'name')],
    )
    create_table('waves',
    reference('relationship_id', 'relationships', 'CASCADE'),
    reference('instrument_version_id', 'instrument_versions'),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    stamped('created_at'),
    checks=[('state', "state IN ('draft', 'open', 'closed')")],
    unique=[('relationship_id', 'label')],
    )
    create_table('invitations',
    reference('wave_id', 'waves', 'CASCADE'),
    reference('party_id', 'parties'),
    reference('service_area_id', 'service_areas', nullable=True),
    sa.Column('role_level', sa.String(length=20), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=True),
    unique=[('token_hash',)],
    indexes=['wave_id'],
    )
    create_table('responses',
    sa.Column('id', sa.Uuid(), nullable=False),
    reference('wave_id', 'waves', 'CASCADE'),
    reference('instrument_version_id', 'instrument_versions'),
    sa.Column('side', sa.String(length=8), nullable=False),
    reference('service_area_id', 'service_areas', nullable=True),
    sa.Column('role_level', sa.String(length=20), nullable=True),
    checks=[('side', "side IN ('client', 'supplier')")],
    indexes=['wave_id'],
    sqlite_with_rowid=False,
    )
    create_table('answers',
    reference('response_id', 'responses', 'CASCADE', type_=sa.Uuid()),
    sa.Column('item_no', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    key=('response_id', 'item_no'),
    sqlite_with_rowid=False,
    )
    create_table('comments',
    reference('response_id', 'responses', 'CASCADE', type_=sa.Uuid()),
    sa.Column('question_key', sa.String(length=60), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    key=('response_id', 'question_key'),
    sqlite_with_rowid=False,
    )
    create_table('drafts',
    reference('token_hash', 'invitations.token_hash', 'CASCADE', type_=sa.String(length=64)),
    reference('wave_id', 'waves', 'CASCADE'),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
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
