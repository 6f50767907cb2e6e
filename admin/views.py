"""``/admin/``: server-rendered pages (no JavaScript needed) behind the console's login.

Views translate HTTP to the services and reports; every page but the login one needs a session
(``_require_login``), and every form carries a CSRF token (``admin.forms``).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from admin import pages
from admin import session as admin_session
from admin.accounts import end_sessions, log_in
from admin.calls import PAGE_SIZE, Search, parse_search, recent_calls
from admin.diagram import DiagramUnavailable, live_diagram, menu_graph, render_svg
from admin.forms import LoginForm, LogoutForm, PreviewForm, csrf_failed
from admin.reports import Period, Totals, parse_period, totals
from admin.rollups import DAYS_PER_VISIT, roll_up
from database.flask_ext import get_db, request_session
from ivr.menu import Menu, MenuError
from ivr.menu.loader import MAX_MENU_BYTES, load_menu
from ivr.replay import replay_calls

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PUBLIC_ENDPOINTS = frozenset({"admin.login"})
REPLAYED_CALLS = 1000  # the last recorded calls a preview replays, as menus diff does
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


def _clock() -> datetime:
    now: datetime = current_app.config["CLOCK"]()
    return now


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


def _menu() -> Menu:
    menu: Menu = current_app.extensions["menu_registry"].current()
    return menu


def _period() -> tuple[Period, str | None]:
    return parse_period(request.args.get("from"), request.args.get("to"), _clock(),
                        ZoneInfo(_menu().settings.timezone))


def _totals(period: Period) -> Totals:
    """After rolling up the few days that came due (``admin.rollups``)."""
    try:
        roll_up(get_db(), _clock(), max_days=DAYS_PER_VISIT)
    except SQLAlchemyError:
        log.exception("rollup failed; counting from the calls table")
    return totals(request_session(), period)


@bp.route("/")
def dashboard() -> str:
    period, problem = _period()
    numbers = pages.overview(request_session(), _totals(period), period, _menu(), _clock())
    return render_template("admin/dashboard.html", period=period, problem=problem, **numbers)


@bp.route("/funnel")
def funnel() -> str:
    period, problem = _period()
    rows = pages.funnel_rows(_totals(period), _menu())
    return render_template("admin/funnel.html", period=period, problem=problem, rows=rows,
                           chart=pages.funnel_chart(rows))


@bp.route("/menu")
def menu() -> str:
    current = _menu()
    diagram, problem = _diagram(lambda: live_diagram(current, url_for("admin.node", name="")))
    return render_template("admin/menu.html", menu=current, diagram=diagram,
                           diagram_problem=problem)


@bp.route("/nodes/<name>")
def node(name: str) -> str | tuple[str, int]:
    current = _menu()
    period, problem = _period()
    numbers = _totals(period)
    counts = numbers.funnel.get(name)
    if current.node(name) is None and counts is None:
        return render_template("admin/node.html", name=name, missing=True, period=period,
                               problem=problem), 404
    ended_here = recent_calls(request_session(), Search(), period.start, period.end,
                              last_node=name, limit=20)
    return render_template(
        "admin/node.html", name=name, missing=False, period=period, problem=problem,
        facts=pages.node_facts(current, name), counts=counts or {},
        transfers=pages.node_transfers(numbers, name), calls=pages.call_rows(ended_here, period))


@bp.route("/calls")
def calls() -> str:
    period, problem = _period()
    search = parse_search(request.args.get("q"))
    found = [] if search.problem else recent_calls(request_session(), search, period.start,
                                                   period.end)
    return render_template("admin/calls.html", period=period, problem=problem,
                           query=request.args.get("q", ""), search=search,
                           calls=pages.call_rows(found, period), limit=PAGE_SIZE)


@bp.route("/preview", methods=["GET", "POST"])
def preview() -> str | tuple[str, int]:
    """Checks an uploaded ``menus.yaml`` with the loader the server uses; writes nothing."""
    request.max_content_length = MAX_MENU_BYTES + 64 * 1024  # the app's 64 KiB is for webhooks
    form = PreviewForm()
    if request.method == "GET":
        return render_template("admin/preview.html", form=form)
    if not form.validate_on_submit():
        if csrf_failed(form):
            return render_template("admin/expired.html"), 400
        return render_template("admin/preview.html", form=form, missing=True), 400
    filename = _display_name(form.menu.data.filename)
    try:
        edited = _check_upload(form.menu.data, filename)
    except MenuError as refused:
        return render_template("admin/preview.html", form=form, filename=filename,
                               problems=[str(p) for p in refused.problems]), 422
    diagram, problem = _diagram(lambda: render_svg(menu_graph(edited)))
    served = _menu()
    return render_template("admin/preview.html", form=form, filename=filename, problems=[],
                           edited=edited, diagram=diagram, diagram_problem=problem,
                           changes=pages.menu_changes(served, edited),
                           **_replayed(served, edited))


def _replayed(served: Menu, edited: Menu) -> dict[str, Any]:
    """``menus diff``'s replay of the last recorded calls through the served and the edited
    menu: only reads the recorded steps."""
    try:
        results = replay_calls(get_db(), served, edited, REPLAYED_CALLS)
    except SQLAlchemyError:
        log.exception("the preview's replay could not read the recorded calls")
        return {"replay_problem": "The recorded calls could not be read: no replay this time."}
    return {"replayed": len(results), "moved": pages.replay_rows(results)}


def _check_upload(upload: FileStorage, filename: str) -> Menu:
    """``menus check``'s own loader (size limit, UTF-8, FILE:LINE problems) on a copy of the
    upload in a private temporary file, named as the admin's file is."""
    with tempfile.TemporaryDirectory(prefix="menu-preview-") as folder:
        path = Path(folder) / "menus.yaml"
        upload.save(path)
        return load_menu(path, display_name=filename)


def _diagram(draw: Callable[[], str]) -> tuple[Markup | None, str | None]:
    try:
        return Markup(draw()), None  # noqa: S704 - dot's own SVG, every label escaped by it
    except DiagramUnavailable as unavailable:
        return None, str(unavailable)


def _display_name(raw: str | None) -> str:
    """The uploaded file's own name, as problems name it: no folders, printable, short."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:100]
    return name or "menus.yaml"


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> BaseResponse:
    """Reached only with a session (``_require_login`` answers everyone else)."""
    abort(404)

