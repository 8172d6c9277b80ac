"""Sealed drafts: a draft's answers encrypted under a data key that only its link can unwrap.

``drafts.sealed`` holds the encrypted answers and ``invitation_links.draft_key_wrap`` the data
key wrapped for each link (survey_app/services/sealed_drafts.py). ``drafts.data`` may now be
empty: it keeps a draft saved in clear before this upgrade until the respondent next saves it
(the server cannot encrypt it, having no key).

Create Date: 2026-12-03 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

from survey_app.database import sqlite_foreign_keys_off


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'


def upgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        with op.batch_alter_table('invitation_links', schema=None) as batch_op:
            batch_op.add_column(sa.Column('draft_key_wrap', sa.LargeBinary(length=64), nullable=True))
        with op.batch_alter_table('drafts', schema=None) as batch_op:
            batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
            batch_op.alter_column('data', existing_type=sa.JSON(), nullable=True)


def downgrade():
    with sqlite_foreign_keys_off(op.get_bind()):  # table rebuilds on SQLite
        # Sealed drafts cannot be turned back into clear ones without their keys: they go.
        op.execute("DELETE FROM drafts WHERE data IS NULL")
        with op.batch_alter_table('drafts', schema=None) as batch_op:
            batch_op.alter_column('data', existing_type=sa.JSON(), nullable=False)
            batch_op.drop_column('sealed')
        with op.batch_alter_table('invitation_links', schema=None) as batch_op:
            batch_op.drop_column('draft_key_wrap')
