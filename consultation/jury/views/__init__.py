"""The jury's pages, one module per part: the pool, the draws, the jurors, the voting rounds.

They share one blueprint, so that every endpoint is `jury.<name>`."""

from flask import Blueprint

bp = Blueprint("jury", __name__)

# The modules add their routes to `bp`; imported last, after it exists.
from consultation.jury.views import jurors  # noqa: E402, F401  # isort: skip
from consultation.jury.views import pool  # noqa: E402, F401  # isort: skip
from consultation.jury.views import voting  # noqa: E402, F401
