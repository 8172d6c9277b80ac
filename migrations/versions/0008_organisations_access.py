"""Organisations, roles per relationship, OpenID Connect accounts, TOTP, account links, token scope.

Existing data moves without losing access:

* each distinct party name becomes an organisation, and each party points at its organisation;
* a user's global role stays as their *service-wide* role (``users.role``, now optional), so
  everybody keeps what they could see; the password hash becomes optional (accounts that sign
  in through their organisation's OpenID Provider only);
* existing API tokens expire a year from the migration.

Create Date: 2026-12-03 07:45:00.000000

"""
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

from survey_app.database import sqlite_foreign_keys_off
from survey_app.migration_ops import create_table, drop_table, stamped

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0012'


def upgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        create_table('organisations',
        sa.Column('name', sa.String(length=200), nullable=False),
        stamped('created_at'),
        sa.Column('oidc_issuer', sa.String(length=500), nullable=True),
        sa.Column('oidc_client_id', sa.String(length=255), nullable=True),
        sa.Column('oidc_client_secret', sa.Text(), nullable=True),
        sa.Column('allowed_email_domains', sa.JSON(), nullable=False),
        sa.Column('group_roles', sa.JSON(), nullable=False),
        sa.Column('local_passwords_allowed', sa.Boolean(), nullable=False),
        sa.Column('admin_mfa_claim', sa.String(length=100), nullable=True),
        unique=[('name',), ('oidc_issuer',)],
        )
        _parties_become_organisations()

        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=500), nullable=True))
            batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
            batch_op.add_column(sa.Column('last_signed_in_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
            batch_op.alter_column('role', existing_type=sa.String(length=10), nullable=True)
            batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)
            batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
            batch_op.create_check_constraint('role', "role IS NULL OR role IN ('admin', 'manager', 'reviewer')")
            batch_op.create_unique_constraint(batch_op.f('uq_users_oidc_issuer_oidc_subject'), ['oidc_issuer', 'oidc_subject'])
            batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_users_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'], ondelete='SET NULL')

        create_table('memberships',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('relationship_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        checks=[('role', "role IN ('admin', 'manager', 'reviewer')")],
        foreign_keys=[('relationship_id', 'relationships', 'CASCADE'), ('user_id', 'users', 'CASCADE')],
        unique=[('user_id', 'relationship_id')],
        indexes=['relationship_id', 'user_id'],
        )
        create_table('account_links',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        checks=[('purpose', "purpose IN ('invite', 'reset')")],
        foreign_keys=[('user_id', 'users', 'CASCADE')],
        unique=[('token_hash',)],
        indexes=['user_id'],
        )
        create_table('recovery_codes',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=255), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        foreign_keys=[('user_id', 'users', 'CASCADE')],
        indexes=['user_id'],
        )

        with op.batch_alter_table('api_tokens', schema=None) as batch_op:
            batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('relationship_id', sa.Integer(), nullable=True))
        a_year_from_now = datetime.utcnow().replace(microsecond=0) + timedelta(days=365)
        op.execute(sa.text('UPDATE api_tokens SET expires_at = :at').bindparams(at=a_year_from_now))
        with op.batch_alter_table('api_tokens', schema=None) as batch_op:
            batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)
            batch_op.create_index(batch_op.f('ix_api_tokens_relationship_id'), ['relationship_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_api_tokens_relationship_id_relationships'), 'relationships', ['relationship_id'], ['id'], ondelete='CASCADE')


def _parties_become_organisations():
    """One organisation per distinct party name; every party points at its organisation."""
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    conn = op.get_bind()
    names = [row[0] for row in conn.execute(sa.text('SELECT DISTINCT name FROM parties ORDER BY name'))]
    organisations = sa.table(
        'organisations',
        sa.column('name', sa.String), sa.column('allowed_email_domains', sa.JSON),
        sa.column('group_roles', sa.JSON), sa.column('local_passwords_allowed', sa.Boolean),
    )
    if names:
        op.bulk_insert(organisations, [
            {'name': name, 'allowed_email_domains': [], 'group_roles': {}, 'local_passwords_allowed': True}
            for name in names
        ])
    op.execute(sa.text(
        'UPDATE parties SET organisation_id = '
        '(SELECT organisations.id FROM organisations WHERE organisations.name = parties.name)'
    ))
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_parties_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_parties_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])


def downgrade():
    """Back to global roles: a user without a service-wide role gets the highest role they held
    on any relationship — the lowest, so that nobody sees more than before — (else reviewer),
    and an account without a password an unusable one."""
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        conn = op.get_bind()
        for role in ('reviewer', 'manager', 'admin'):
            conn.execute(sa.text(
                'UPDATE users SET role = :role WHERE role IS NULL AND id IN '
                '(SELECT user_id FROM memberships WHERE role = :role)'
            ).bindparams(role=role))
        conn.execute(sa.text("UPDATE users SET role = 'reviewer' WHERE role IS NULL"))
        conn.execute(sa.text("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL"))

        with op.batch_alter_table('api_tokens', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_api_tokens_relationship_id_relationships'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_api_tokens_relationship_id'))
            batch_op.drop_column('relationship_id')
            batch_op.drop_column('expires_at')

        drop_table('recovery_codes', indexes=['user_id'])
        drop_table('account_links', indexes=['user_id'])
        drop_table('memberships', indexes=['relationship_id', 'user_id'])

        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_users_organisation_id_organisations'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_users_organisation_id'))
            batch_op.drop_constraint(batch_op.f('uq_users_oidc_issuer_oidc_subject'), type_='unique')
            batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
            batch_op.create_check_constraint('role', "role IN ('admin', 'manager', 'reviewer')")
            batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
            batch_op.alter_column('role', existing_type=sa.String(length=10), nullable=False)
            batch_op.drop_column('totp_last_step')
            batch_op.drop_column('totp_secret')
            batch_op.drop_column('last_signed_in_at')
            batch_op.drop_column('oidc_subject')
            batch_op.drop_column('oidc_issuer')
            batch_op.drop_column('organisation_id')

        with op.batch_alter_table('parties', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_parties_organisation_id_organisations'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_parties_organisation_id'))
            batch_op.drop_column('organisation_id')
        op.drop_table('organisations')
