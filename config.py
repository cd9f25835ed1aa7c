"""Configuration, read from the environment.

`DATABASE_URL` selects the database (default: SQLite under instance/); `SECRET_KEY` comes from the
environment, and in development one is generated once into instance/secret_key.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'coop_audit.sqlite3'}"
    # Accept the common postgres:// and postgresql:// spellings; always use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _dev_secret_key() -> str:
    """A development key generated once and kept in instance/ (never committed)."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    WTF_CSRF_TIME_LIMIT = (
        None  # tokens live as long as the session: forms filled slowly in the field
    )
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = ("id", "en")
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024  # uploads are checked again per kind
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    LETTER_DIR = os.environ.get("LETTER_DIR", str(INSTANCE_DIR / "letters"))
    LOGIN_MAX_FAILURES = 10
    LOGIN_WINDOW_SECONDS = 300
    PASSWORD_HASH_METHOD = "scrypt"  # a method name, not a password # noqa: S105 # nosec B105
    # Job queue: embedded SQLite huey by default, Redis when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    HUEY_FILE = os.environ.get("HUEY_FILE", str(INSTANCE_DIR / "jobs.sqlite3"))
    HUEY_IMMEDIATE = False
    # Processes that render the letters of a bulk sign-off (the job worker starts them).
    LETTER_RENDER_WORKERS = int(
        os.environ.get("LETTER_RENDER_WORKERS", "") or min(4, os.cpu_count() or 1)
    )
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    PAGE_SIZE = 50
    # Reverse proxies in front of the app (nginx: 1). Without this, behind a proxy every request
    # seems to come from 127.0.0.1 and the login throttle would lock out the whole office.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # test config only # noqa: S105 # nosec B105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast suite # noqa: S105 # nosec B105
    HUEY_IMMEDIATE = True
    # A commit that changes cooperatives without a history row fails (see register_cache).
    REGISTER_CACHE_STRICT = True


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("COOP_AUDIT_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(
            f"COOP_AUDIT_ENV must be one of {', '.join(CONFIGS)}, not {name!r}"
        ) from None


def resolve_secret_key(config: dict) -> str:
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    if config.get("ENV_NAME") == "production":
        raise SystemExit("SECRET_KEY must be set in the environment in production")
    return _dev_secret_key()
