"""Alembic environment: run with the engine that `Database` hands over, never from a URL in a file."""

from __future__ import annotations

from alembic import context

import jobs.models  # noqa: F401  (registers the jobs tables on Base.metadata)
import monitor.applications.models
import monitor.storage.kept_models  # noqa: F401  (registers the kept-answer tables on Base)
from monitor.storage.models import Base, include_name, include_object
from notifications import models as _notifications_models  # noqa: F401  (registers its tables on Base)

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
