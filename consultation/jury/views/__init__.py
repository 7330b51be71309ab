"""The jury's pages, one module per part: the pool, the draws, the jurors, the voting rounds.

They share one blueprint, so that every endpoint is `jury.<name>`."""

from flask import Blueprint

bp = Blueprint("jury", __name__)

# The modules add their routes to `bp`: imported last, once it exists.
from consultation.jury.views import draws, jurors, pool, voting  # noqa: E402, F401
