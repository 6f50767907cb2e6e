"""The console's forms: Flask-WTF, so each carries and checks a CSRF token bound to the
session."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin.models import USERNAME_LENGTH


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(),
                                                   Length(max=USERNAME_LENGTH)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class LogoutForm(FlaskForm):
    pass


class PreviewForm(FlaskForm):
    menu = FileField("menus.yaml", validators=[FileRequired()])


def csrf_failed(form: FlaskForm) -> bool:
    return "csrf_token" in form.errors
