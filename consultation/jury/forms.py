"""Forms of the jury: scheduling a round (staff) and a juror's vote on one item; the public
application to the pool, the pool's import and the quotas editor (staff)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from consultation.accounts.forms import NewPasswordMixin
from consultation.jury.members import LABEL_MAX, MAX_BOUND
from consultation.jury.models import CHOICE_LABELS, Category


def _optional_int(value: object) -> int | None:
    """A chosen number; empty means none, anything but a number becomes 0 (no such version)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else 0


class RoundForm(FlaskForm):
    """A new voting round on a frozen version, its dates in Paris time and its rules."""

    version = SelectField(
        _l("Frozen version put to the vote"),
        coerce=_optional_int,
        choices=[],
        validate_choice=False,  # the service says when the version is not the bill's
        validators=[DataRequired(_l("Choose the version of the bill to vote on."))],
    )
    opens_at = DateTimeLocalField(
        _l("Opens (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    closes_at = DateTimeLocalField(
        _l("Closes (Paris time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    quorum_percent = IntegerField(
        _l("Quorum (percent of the registered jurors)"),
        default=50,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("The share of the jurors who must vote on an item for its result to count."),
    )
    threshold_percent = IntegerField(
        _l("Adoption threshold (percent of the votes cast)"),
        default=50,
        validators=[InputRequired(), NumberRange(min=50, max=100)],
        description=_l("An item is adopted when “for” exceeds this share of for + against."),
    )


class VoteForm(FlaskForm):
    """A juror's choice on one item of the round (an article id, or 0 for the whole text)."""

    item = HiddenField()
    choice = RadioField(
        _l("Your vote"),
        choices=[SelectChoice(choice.value, label) for choice, label in CHOICE_LABELS.items()],
        validators=[DataRequired(_l("Choose for, against or abstention."))],
    )


class JurorInvitationForm(NewPasswordMixin, FlaskForm):
    """A drawn member creates their juror account from their invitation link."""

    display_name = StringField(
        _l("Your name as others will see it"), validators=[DataRequired(), Length(max=200)]
    )


# --- The jury pool ------------------------------------------------------------------------------


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ApplicationForm(FlaskForm):
    """A citizen's application to the jury pool; `application_form` adds one select per category
    of the draw (fields `category_<id>`)."""

    full_name = StringField(
        _l("Your name"), filters=[_strip], validators=[DataRequired(_l("Give your name."))]
    )
    email = StringField(
        _l("Your e-mail address"),
        filters=[_strip],
        validators=[DataRequired(_l("Give your e-mail address."))],
        description=_l("We write to you there only if you are drawn."),
    )
    phone = StringField(
        _l("Your telephone number (optional)"),
        filters=[_strip],
        description=_l("Only to call you if you are drawn and we cannot reach you by e-mail."),
    )
    has_consented = BooleanField(
        _l(
            "I agree that my answers are kept for the draw and my contact details to invite me "
            "if I am drawn, until the consultation is archived."
        ),
        validators=[
            DataRequired(_l("Your consent is needed: without it we cannot keep your application."))
        ],
    )

    def category_fields(self) -> list[tuple[int, Field]]:
        """The category selects, as (category id, field), in the categories' order."""
        return [
            (int(name.removeprefix("category_")), field)
            for name, field in self._fields.items()
            if name.startswith("category_")
        ]


def category_field_name(category: Category) -> str:
    """The application form's field for a category."""
    return f"category_{category.id}"


def application_form(categories: list[Category]) -> ApplicationForm:
    """The application form with a select of each category's features (their labels)."""

    class Form(ApplicationForm):
        pass

    for category in categories:
        setattr(
            Form,
            category_field_name(category),
            SelectField(
                category.label,
                choices=[SelectChoice("", "—")]
                + [SelectChoice(quota.feature, quota.label) for quota in category.quotas],
                # The service says when a feature is not one of the category's.
                validate_choice=False,
                validators=[DataRequired(_l("Choose an answer."))],
            ),
        )
    return Form()


class PoolImportForm(FlaskForm):
    """The two files of a pool, in the format of the Sortition Foundation's tools."""

    categories_file = FileField(
        _l("Categories and quotas (categories.csv)"),
        validators=[FileRequired(_l("Choose the categories file."))],
        description=_l("Columns category, feature, min, max: one quota per row."),
    )
    respondents_file = FileField(
        _l("Pool members (respondents.csv)"),
        validators=[FileRequired(_l("Choose the respondents file."))],
        description=_l(
            "One row per member, one column per category holding the member's feature; "
            "optional columns id, name, email and phone."
        ),
    )


class QuotasForm(FlaskForm):
    """The quotas editor; `quotas_form` adds, per category, `category_label_<id>`, and per
    feature `label_<id>`, `min_<id>` and `max_<id>`."""

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        """Field checks, then a minimum above its maximum, beside the minimum."""
        valid = super().validate(extra_validators)
        for name, field in self._fields.items():
            if not name.startswith("min_"):
                continue
            high = self._fields.get("max_" + name.removeprefix("min_"))
            if (
                high is not None
                and isinstance(field.data, int)
                and isinstance(high.data, int)
                and field.data > high.data
            ):
                field.errors.append(
                    _l(
                        "The minimum %(min)s is above the maximum %(max)s.",
                        min=field.data,
                        max=high.data,
                    )
                )
                valid = False
        return valid


def quotas_form(categories: list[Category]) -> QuotasForm:
    """The quotas editor of these categories, filled with their current values; each input's
    label names its category and feature, as the table's cells show it to screen readers."""

    class Form(QuotasForm):
        pass

    bound = [
        InputRequired(_l("Give a whole number.")),
        NumberRange(min=0, max=MAX_BOUND, message=_l("Give a whole number from 0 to %(max)s.")),
    ]
    label = [DataRequired(_l("Give a label.")), Length(max=LABEL_MAX)]
    data: dict[str, object] = {}
    for category in categories:
        setattr(
            Form,
            f"category_label_{category.id}",
            StringField(
                _l("Label of the category “%(name)s”", name=category.name),
                filters=[_strip],
                validators=label,
            ),
        )
        data[f"category_label_{category.id}"] = category.label
        for quota in category.quotas:
            names = {"category": category.name, "feature": quota.feature}
            setattr(
                Form,
                f"label_{quota.id}",
                StringField(
                    _l("Label of %(category)s/%(feature)s", **names),
                    filters=[_strip],
                    validators=label,
                ),
            )
            setattr(
                Form,
                f"min_{quota.id}",
                IntegerField(_l("Minimum of %(category)s/%(feature)s", **names), validators=bound),
            )
            setattr(
                Form,
                f"max_{quota.id}",
                IntegerField(_l("Maximum of %(category)s/%(feature)s", **names), validators=bound),
            )
            data |= {
                f"label_{quota.id}": quota.label,
                f"min_{quota.id}": quota.min_count,
                f"max_{quota.id}": quota.max_count,
            }
    # On a POST the sent values replace these; a missing one fails InputRequired.
    return Form(data=data)


class DrawForm(FlaskForm):
    """The initial draw: how many jurors to draw from the pool."""

    panel_size = IntegerField(
        _l("Number of jurors to draw"),
        validators=[
            InputRequired(_l("Give the number of jurors to draw.")),
            NumberRange(min=1, max=1000, message=_l("Draw between 1 and 1,000 jurors.")),
        ],
    )
