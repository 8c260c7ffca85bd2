"""Extensions, created unbound here and bound to an app in ``create_app`` (``init_app``)."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from server.models.base import Base

db = SQLAlchemy(model_class=Base)
#: render_as_batch lets Alembic alter tables on SQLite (copy-and-move), which has no ALTER COLUMN.
migrate = Migrate(render_as_batch=True, compare_type=True)
