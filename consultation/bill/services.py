"""Bill use cases shared by the synthesis workspace, the editor and the versions: finding the
bill and the rule that it is written during the synthesis phase only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consultation.accounts.models import User
from consultation.bill.models import Bill
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import InvalidTransition
from consultation.extensions import db

DEFAULT_TITLE = "Proposition de loi pour une politique du logement ambitieuse, juste et écologique"


def check_editable(consultation: Consultation) -> None:
    """The bill is written during the synthesis; before, there is nothing to merge, and after,
    the jury votes on a frozen version."""
    if consultation.phase is not Phase.SYNTHESE:
        raise InvalidTransition(_l("The bill is written during the synthesis phase only."))


def find_bill(consultation: Consultation) -> Bill | None:
    """The consultation's bill, if the synthesis has started one."""
    return db.session.scalar(select(Bill).where(Bill.consultation_id == consultation.id))


def get_or_create_bill(consultation: Consultation, actor: User | None) -> Bill:
    """The consultation's bill, created empty on the first edit of the synthesis."""
    bill = find_bill(consultation)
    if bill is None:
        check_editable(consultation)
        bill = Bill(consultation_id=consultation.id, title=DEFAULT_TITLE)
        db.session.add(bill)
        db.session.flush()
        audit.record("bill.created", bill, actor=actor)
    return bill
