"""Entry point: `flask --app app run` or `gunicorn app:app`."""

from coop_audit import create_app

app = create_app()
