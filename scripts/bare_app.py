"""The benchmark's baseline: a Flask app that answers every POST with one constant TwiML document.

It never reads the request (no form parsing, no signature check, no database), so it measures
what gunicorn, Werkzeug and Flask cost by themselves on this machine. ``scripts/bench.py`` serves
it under the same gunicorn settings as the real app (``gunicorn scripts.bare_app:app``).
"""

from __future__ import annotations

from flask import Flask, Response

# About the size of the real main-menu document, so both apps write similar responses.
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/step?'
    's=principal.0.0..principal" finishOnKey="#" input="dtmf" method="POST" numDigits="8" '
    'timeout="2"><Say language="pt-BR" voice="Polly.Camila">Olá, você ligou para o atendimento '
    "TOTVS. Se você já tem o número do chamado, digite agora os oito dígitos. Para ativação de "
    "cadastro, acesso ao portal do cliente ou e-mail cadastrado, tecle 7. Para suporte técnico, "
    "tecle 2. Para consultar um chamado, tecle 1. Para ouvir de novo, tecle asterisco.</Say>"
    '<Pause length="4" /></Gather><Redirect method="POST">/voice/step?s=principal.0.0..principal'
    "</Redirect></Response>"
)

app = Flask(__name__)


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def constant_twiml(path: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
