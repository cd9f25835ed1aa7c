"""Locale selection, Indonesian number/date formatting, and catalog compilation.

Translations live in one .po file per feature under translations/<lang>/LC_MESSAGES/; they are
merged into the messages.mo that Flask-Babel loads (`flask translate compile`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_translations
from flask_login import current_user

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    lang = session.get("lang") if request else None
    if lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def angka(value: int | float | None) -> str:
    """1163 -> "1.163" in Indonesian, "1,163" in English."""
    if value is None:
        return ""
    return format_decimal(value)


def tanggal(value: date | datetime | None) -> str:
    """A date as people write it: "3 Desember 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM y HH:mm")
    return format_date(value, "d MMMM y")


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> dict[str, int]:
    """Merge every <lang>/LC_MESSAGES/*.po into messages.mo; returns messages per language."""
    counts: dict[str, int] = {}
    for lang_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        lc = lang_dir / "LC_MESSAGES"
        merged = Catalog(locale=lang_dir.name, domain="messages")
        for po in sorted(lc.glob("*.po")):
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang_dir.name)
            # Babel guesses two plural forms for "id"; Indonesian has one, as the .po files say.
            merged.mime_headers = [("Plural-Forms", catalog.plural_forms)]
            for message in catalog:
                if message.id and message.string:
                    merged[message.id] = message
        with (lc / "messages.mo").open("wb") as fh:
            write_mo(fh, merged)
        counts[lang_dir.name] = len(merged)
    return counts


def catalogs_stale(directory: Path = TRANSLATIONS_DIR) -> bool:
    for lc in directory.glob("*/LC_MESSAGES"):
        mo = lc / "messages.mo"
        if not mo.exists():
            return True
        if any(po.stat().st_mtime > mo.stat().st_mtime for po in lc.glob("*.po")):
            return True
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def wtforms_speaks_the_users_language() -> None:
        # WTForms ships no Indonesian catalog; Flask-WTF reads this attribute first, so its
        # built-in messages ("This field is required.") come from our catalog (wtforms.po).
        request.wtforms_translations = get_translations()

    app.jinja_env.filters["angka"] = angka
    app.jinja_env.filters["tanggal"] = tanggal

    @app.cli.group("translate")
    def translate() -> None:
        """Translation catalogs."""

    @translate.command("compile")
    def compile_command() -> None:
        """Merge the per-feature .po files into messages.mo."""
        for lang, n in compile_catalogs().items():
            click.echo(f"{lang}: {n} messages")
