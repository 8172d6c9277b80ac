"""Comment themes: the themes of each publishable group's comments, computed when a wave closes.

One row per theme of one free-text question's comments in one group (a side or both × a
service area or all) of a closed wave: its name, most distinctive words, count and two
representative comments (``survey_app.models.CommentTheme``; issue 16 part 4).

Create Date: 2026-12-03 11:00:00

"""
import sqlalchemy as sa

from survey_app.migration_ops import create_table, drop_table


# revision identifiers, used by Alembic.
revision = '0020_themes'
down_revision = '0018'


def upgrade():
    create_table('comment_themes',
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
    foreign_keys=[('wave_id', 'waves', 'CASCADE')],
    unique=[('wave_id', 'question_key', 'side', 'area_key', 'rank')],
    indexes=['wave_id'],
    )


def downgrade():
    drop_table('comment_themes', indexes=['wave_id'])
