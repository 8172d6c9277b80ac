"""Invitation links (one row per link issued, only the token's hash) and the address outbox.

An invitation may now be reached through several links (a reminder's, or a message re-sent
after a crash left its fate unknown); whichever is used first uses the invitation. The existing
``invitations.token_hash`` values become each invitation's first link, and drafts are keyed by a
link's hash. Each address on a wave's address list gets an outbox state for the sending job.

Create Date: 2026-12-03 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

from survey_app.database import sqlite_foreign_keys_off
from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'


def _day_as_timestamp(column):
    if op.get_bind().dialect.name == "sqlite":
        return f"{column} || ' 00:00:00.000000'"
    return f"CAST({column} AS TIMESTAMP)"


def upgrade():
    create_table('invitation_links',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    foreign_keys=[('invitation_id', 'invitations', 'CASCADE')],
    unique=[('token_hash',)],
    indexes=['invitation_id'],
    )
    op.execute(
        "INSERT INTO invitation_links (invitation_id, token_hash, issued_at) "
        f"SELECT id, token_hash, {_day_as_timestamp('issued_on')} FROM invitations ORDER BY id"
    )
    with sqlite_foreign_keys_off(op.get_bind()):
        with op.batch_alter_table('drafts', schema=None) as batch_op:
            batch_op.drop_constraint('fk_drafts_token_hash_invitations', type_='foreignkey')
            batch_op.create_foreign_key(batch_op.f('fk_drafts_token_hash_invitation_links'), 'invitation_links', ['token_hash'], ['token_hash'], ondelete='CASCADE')
        with op.batch_alter_table('invitations', schema=None) as batch_op:
            batch_op.drop_constraint('uq_invitations_token_hash', type_='unique')
            batch_op.drop_column('token_hash')

    with op.batch_alter_table('invitation_addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbox', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('outbox_job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitation_addresses_outbox_job_id'), ['outbox_job_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitation_addresses_outbox_job_id_jobs'), 'jobs', ['outbox_job_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint('outbox', "outbox IS NULL OR outbox IN ('to_send', 'handed', 'sent')")


def downgrade():
    with op.batch_alter_table('invitation_addresses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invitation_addresses_outbox'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_invitation_addresses_outbox_job_id_jobs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitation_addresses_outbox_job_id'))
        batch_op.drop_column('outbox_job_id')
        batch_op.drop_column('outbox')

    # Back to one hash per invitation: its latest link (earlier links stop working, and the
    # drafts saved through them are dropped).
    op.add_column('invitations', sa.Column('token_hash', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE invitations SET token_hash = (SELECT l.token_hash FROM invitation_links l "
        "WHERE l.invitation_id = invitations.id ORDER BY l.id DESC LIMIT 1)"
    )
    op.execute("DELETE FROM invitations WHERE token_hash IS NULL")
    op.execute("DELETE FROM drafts WHERE token_hash NOT IN (SELECT token_hash FROM invitations)")
    with sqlite_foreign_keys_off(op.get_bind()):
        with op.batch_alter_table('drafts', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_drafts_token_hash_invitation_links'), type_='foreignkey')
        with op.batch_alter_table('invitations', schema=None) as batch_op:
            batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
            batch_op.create_unique_constraint(batch_op.f('uq_invitations_token_hash'), ['token_hash'])
        with op.batch_alter_table('drafts', schema=None) as batch_op:
            batch_op.create_foreign_key('fk_drafts_token_hash_invitations', 'invitations', ['token_hash'], ['token_hash'], ondelete='CASCADE')
        drop_table('invitation_links', indexes=['invitation_id'])
