"""The reference: a bare Flask app with one small text endpoint.

`bench/run.py` serves it with gunicorn exactly like the real app, so the ratio of the two
request rates cancels out the machine, the server and the load generator.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> tuple[str, int, dict[str, str]]:
    return "Bonjour", 200, {"Content-Type": "text/plain; charset=utf-8"}
