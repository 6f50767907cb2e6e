"""``/admin/``: server-rendered pages (no JavaScript needed) behind the console's login.

Views translate HTTP to the services and reports; every page but the login one needs a session
(``_require_login``), and every form carries a CSRF token (``admin.forms``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from admin import session as admin_session
from admin.accounts import end_sessions, log_in
from admin.forms import LoginForm, LogoutForm, csrf_failed
from database.flask_ext import request_session

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PUBLIC_ENDPOINTS = frozenset({"admin.login"})
CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@bp.before_request
def _require_login() -> BaseResponse | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if admin_session.current_admin() is None:
        return redirect(url_for("admin.login"))
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _page_context() -> dict[str, Any]:
    return {"admin": admin_session.current_admin(), "logout_form": LogoutForm()}


def _clock() -> Any:
    return current_app.config["CLOCK"]()


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    if not current_app.config.get("SECRET_KEY"):
        # No key, no signed session: the console is off until SECRET_KEY is set.
        return render_template("admin/not_set_up.html"), 503
    if admin_session.current_admin() is not None:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("admin/login.html", form=form, refused=False)
    if not form.validate_on_submit():
        if csrf_failed(form):
            return render_template("admin/login.html", form=form, refused=False,
                                   expired=True), 400
        return render_template("admin/login.html", form=form, refused=True), 400
    session = request_session()
    result = log_in(session, form.username.data or "", form.password.data or "",
                    now=_clock(), rounds=int(current_app.config["BCRYPT_ROUNDS"]),
                    address=request.remote_addr)
    session.commit()
    if result.account is None:
        log.warning("admin login refused (%s) for %r from %s", result.result,
                    (form.username.data or "")[:64], request.remote_addr)
        return render_template("admin/login.html", form=form, refused=True), 401
    log.info("admin %r logged in from %s", result.account.username, request.remote_addr)
    admin_session.start(result.account)
    return redirect(url_for("admin.dashboard"))


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse | tuple[str, int]:
    form = LogoutForm()
    if not form.validate_on_submit():
        return render_template("admin/expired.html"), 400
    admin = admin_session.current_admin()
    if admin is not None:
        end_sessions(request_session(), admin.id)
        request_session().commit()
    admin_session.end()
    return redirect(url_for("admin.login"))


@bp.route("/")
def dashboard() -> str:
    return render_template("admin/dashboard.html")


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> BaseResponse:
    """Reached only with a session (``_require_login`` answers everyone else)."""
    abort(404)


@bp.route("/funnel")
def funnel() -> str:
    return render_template("admin/dashboard.html")


@bp.route("/menu")
def menu() -> str:
    return render_template("admin/dashboard.html")


@bp.route("/calls")
def calls() -> str:
    return render_template("admin/dashboard.html")


@bp.route("/preview", methods=["GET", "POST"])
def preview() -> str:
    return render_template("admin/dashboard.html")


@bp.route("/nodes/<name>")
def node(name: str) -> str:
    return render_template("admin/dashboard.html")
