"""Comment themes: the themes of each publishable group's comments, computed when a wave closes.

One row per theme of one free-text question's comments in one group (a side or both × a
service area or all) of a closed wave: its name, most distinctive words, count and two
representative comments (``survey_app.models.CommentTheme``; issue 16 part 4).

Revision ID: 0020_themes
Revises: 0018
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_themes'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment_themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=60), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=False),
    sa.Column('area_key', sa.String(length=60), nullable=False),
    sa.Column('n_comments', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('words', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_comment_themes_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_themes')),
    sa.UniqueConstraint('wave_id', 'question_key', 'side', 'area_key', 'rank', name=op.f('uq_comment_themes_wave_id_question_key_side_area_key_rank'))
    )
    with op.batch_alter_table('comment_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_themes_wave_id'), ['wave_id'], unique=False)


def downgrade():
    with op.batch_alter_table('comment_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_themes_wave_id'))

    op.drop_table('comment_themes')
