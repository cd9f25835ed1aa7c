"""Admin pages to manage users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..permissions import ADMIN, role_required
from .forms import UserForm
from .operations import UserError, create_user, update_user

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/")
@role_required(ADMIN)
def index():
    users = db.session.execute(select(User).order_by(User.role, User.username)).scalars().all()
    return render_template("users/index.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@role_required(ADMIN)
def new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                form.username.data,
                form.full_name.data,
                form.role.data,
                form.password.data or "",
                nip=form.nip.data,
                rank=form.rank.data,
                job_title=form.job_title.data,
                actor=current_user,
            )
        except UserError as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(
                user,
                actor=current_user,
                full_name=form.full_name.data,
                role=form.role.data,
                enabled=form.enabled.data,
                nip=form.nip.data,
                rank=form.rank.data,
                job_title=form.job_title.data,
                new_password=form.password.data or None,
            )
        except UserError as e:
            db.session.rollback()
            getattr(form, e.field, form.role).errors.append(e.message)
        else:
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user)
