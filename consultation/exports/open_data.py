"""The open-data bundle of a consultation: one zip of CSV and JSON files — the public debates and
proposals, the bill's frozen versions, the provenance of the voted version's articles, the jury's
rounds, results and ballot logs, the draws' public data — with a README.txt listing the files and
their columns.

Only what the public pages already show goes in: never a registration, a pool member's contact, a
juror or an account. The whole bundle takes a fixed number of queries (one more per voting round
for its ballot log), whatever the number of debates, proposals or ballots.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from consultation.accounts.models import Organisation, Region
from consultation.bill.models import Bill, BillVersion
from consultation.bill.numbering import article_label
from consultation.bill.versions import canonical_json, walk_snapshot
from consultation.consultations.models import Consultation, Theme
from consultation.core.i18n import PARIS
from consultation.core.spreadsheet import csv_cell
from consultation.debates.models import Debate, DebateStatus, debate_attendee
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury.draw import public_draw_data
from consultation.jury.models import WHOLE_TEXT, Draw, RoundStatus, VotingRound
from consultation.proposals.models import PUBLIC_STATUSES, Cosignature, Proposal

PUBLIC_DEBATE_STATUSES = (DebateStatus.PUBLISHED, DebateStatus.CANCELLED, DebateStatus.HELD)
# A fixed time for every member of the zip, so that the same data always makes the same bytes
# (and so the same checksum on the final-text page).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
LIST_SEPARATOR = " ; "  # between the names of a list in one CSV cell


@dataclass(frozen=True)
class Table:
    """A CSV file of the bundle (and its JSON twin): its columns and what each holds."""

    name: str  # the file's stem: "debates" makes debates.csv and debates.json
    description: str
    columns: tuple[tuple[str, str], ...]  # (column, what it holds), in order

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


DEBATES = Table(
    "debates",
    "Les débats régionaux publics (publiés, annulés ou tenus).",
    (
        ("id", "identifiant du débat"),
        ("title", "titre"),
        ("description", "présentation (Markdown)"),
        ("region_code", "code INSEE de la région"),
        ("region", "région"),
        ("organiser", "organisation qui l'organise"),
        ("partner", "organisation partenaire, s'il y en a une"),
        ("format", "in_person (en présentiel), online (en ligne) ou hybrid (hybride)"),
        ("venue", "adresse (vide pour un débat en ligne)"),
        ("online_url", "lien de participation (vide pour un débat en présentiel)"),
        ("starts_at", "début (ISO 8601, heure de Paris)"),
        ("ends_at", "fin (ISO 8601, heure de Paris)"),
        ("capacity", "nombre de places (vide : sans limite)"),
        ("status", "published (publié), cancelled (annulé) ou held (tenu)"),
        ("published_at", "date de publication"),
        ("cancelled_at", "date d'annulation"),
        ("cancellation_reason", "motif de l'annulation"),
        ("attendance", "participants comptés au compte rendu"),
        ("attendees", "organisations présentes, séparées par « ; »"),
        ("minutes", "compte rendu (Markdown)"),
        ("url", "page publique du débat"),
    ),
)
PROPOSALS = Table(
    "proposals",
    "Les propositions publiques (soumises, retenues, rejetées ou fusionnées).",
    (
        ("id", "identifiant de la proposition"),
        ("title", "titre"),
        ("summary", "résumé"),
        ("body", "texte (Markdown)"),
        ("rationale", "exposé des motifs de la proposition (Markdown)"),
        ("theme", "thème"),
        ("organisation", "organisation qui la porte"),
        ("source_kind", "organisme, commission, conseil_social ou debat_regional"),
        ("region_code", "code INSEE de la région"),
        ("region", "région"),
        ("debate_id", "débat dont elle est issue (voir debates.csv)"),
        ("debate", "titre de ce débat"),
        ("status", "submitted, accepted, rejected ou merged"),
        ("reason", "motif de la modération"),
        ("merged_into_id", "proposition dans laquelle elle a été fusionnée"),
        ("submitted_at", "date de dépôt (ISO 8601, heure de Paris)"),
        ("cosignatures", "nombre d'organisations cosignataires"),
        ("url", "page publique de la proposition"),
    ),
)
VERSIONS = Table(
    "bill-versions",
    "Les versions figées de la proposition de loi ; le contenu de chacune est dans "
    "bill-versions/version-N.json, dont l'empreinte SHA-256 est la colonne checksum.",
    (
        ("number", "numéro de la version"),
        ("note", "note de la version"),
        ("frozen_at", "date à laquelle elle a été figée (ISO 8601, heure de Paris)"),
        ("checksum", "SHA-256 du fichier bill-versions/version-N.json"),
        ("article_count", "nombre d'articles"),
        ("file", "le fichier de son contenu"),
    ),
)
PROVENANCE = Table(
    "provenance",
    "Les sources de chaque article de la version soumise au vote du jury : une ligne par "
    "article et par proposition.",
    (
        ("version", "numéro de la version votée"),
        ("article_id", "identifiant de l'article dans cette version"),
        ("article", "son numéro dans la version votée"),
        ("final_article", "son numéro dans le texte final (vide s'il n'a pas été adopté)"),
        ("proposal_id", "identifiant de la proposition (voir proposals.csv)"),
        ("proposal", "titre de la proposition"),
        ("organisation", "organisation qui la porte"),
        ("source_kind", "organisme, commission, conseil_social ou debat_regional"),
        ("region_code", "code INSEE de la région"),
        ("region", "région"),
        ("debate_id", "débat dont elle est issue"),
        ("debate", "titre de ce débat"),
    ),
)
ROUNDS = Table(
    "jury-rounds",
    "Les scrutins du jury citoyen.",
    (
        ("number", "numéro du scrutin"),
        ("version", "version du texte soumise au vote"),
        ("status", "scheduled (prévu), open (ouvert) ou closed (clos)"),
        ("opens_at", "ouverture (ISO 8601, heure de Paris)"),
        ("closes_at", "clôture prévue"),
        ("closed_at", "clôture effective"),
        ("quorum_percent", "part des jurés inscrits qui doivent voter pour qu'un vote compte"),
        ("threshold_percent", "part des suffrages exprimés que « pour » doit dépasser"),
        ("registered", "jurés inscrits à la clôture"),
        ("log_length", "nombre d'entrées du journal des votes"),
        ("log_head", "empreinte de la dernière entrée du journal"),
        ("ballot_log", "le fichier du journal des votes, une fois le scrutin clos"),
    ),
)
RESULTS = Table(
    "jury-results",
    "Les résultats de chaque scrutin clos, article par article puis sur l'ensemble du texte.",
    (
        ("round", "numéro du scrutin"),
        ("version", "version votée"),
        ("item", "identifiant de l'article dans la version votée ; 0 pour l'ensemble du texte"),
        ("label", "numéro de l'article dans la version votée"),
        ("heading", "intitulé de l'article"),
        ("final_article", "son numéro dans le texte final (vide s'il n'a pas été adopté)"),
        ("registered", "jurés inscrits"),
        ("voted", "votants (abstentions comprises)"),
        ("pour", "voix pour"),
        ("contre", "voix contre"),
        ("abstention", "abstentions"),
        ("cast", "suffrages exprimés (pour et contre)"),
        ("quorum_reached", "true si le quorum est atteint"),
        ("adopted", "true si l'article est adopté"),
        ("large_support", "true si « pour » atteint les deux tiers des suffrages exprimés"),
    ),
)
DRAWS = Table(
    "jury-draws",
    "Les tirages au sort du jury ; les données qui permettent de rejouer chacun sont dans "
    "jury/draw-N.json (la commande `jury replay` les vérifie).",
    (
        ("number", "numéro du tirage"),
        ("kind", "initial ou replacement (places laissées par des jurés)"),
        ("algorithm", "leximin ou legacy"),
        ("status", "committed, running, done ou failed"),
        ("panel_size", "nombre de jurés tirés"),
        ("pool_size", "nombre de volontaires dans le vivier"),
        ("committed_at", "date de l'engagement sur la graine"),
        ("drawn_at", "date du tirage"),
        ("pool_checksum", "SHA-256 du vivier figé"),
        ("seed_commitment", "SHA-256 de la graine, publié avant le tirage"),
        ("seed", "la graine, révélée après le tirage"),
        ("panel_index", "le panel que la graine a choisi"),
        ("file", "le fichier de ses données publiques"),
    ),
)
TABLES = (DEBATES, PROPOSALS, VERSIONS, PROVENANCE, ROUNDS, RESULTS, DRAWS)


# --- Values ------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(PARIS).isoformat()
    return value.isoformat()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(item) for item in value)
    return csv_cell(value)


def _csv(table: Table, records: Iterable[dict[str, Any]]) -> bytes:
    """RFC 4180 CSV: UTF-8 without BOM, commas, quoting when needed, never a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.fields)
    for record in records:
        writer.writerow([_csv_value(record[name]) for name in table.fields])
    return out.getvalue().encode()


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


# --- Reading -----------------------------------------------------------------------------------


def _debates(consultation: Consultation, base: str) -> list[dict[str, Any]]:
    """The public debates as records (two queries: the debates, then their attendees)."""
    organiser, partner = aliased(Organisation), aliased(Organisation)
    public = (Debate.consultation_id == consultation.id, Debate.status.in_(PUBLIC_DEBATE_STATUSES))
    rows = db.session.execute(
        select(
            Debate.id,
            Debate.title,
            Debate.description,
            Debate.region_code,
            Region.name,
            organiser.name,
            partner.name,
            Debate.format,
            Debate.venue,
            Debate.online_url,
            Debate.starts_at,
            Debate.ends_at,
            Debate.capacity,
            Debate.status,
            Debate.published_at,
            Debate.cancelled_at,
            Debate.cancellation_reason,
            Debate.attendance,
            Debate.minutes,
        )
        .join(Region, Region.code == Debate.region_code)
        .join(organiser, organiser.id == Debate.organiser_id)
        .outerjoin(partner, partner.id == Debate.partner_id)
        .where(*public)
        .order_by(Debate.starts_at, Debate.id)
    ).all()
    attendees: dict[int, list[str]] = {}
    for debate_id, name in db.session.execute(
        select(debate_attendee.c.debate_id, Organisation.name)
        .join(Organisation, Organisation.id == debate_attendee.c.organisation_id)
        .join(Debate, Debate.id == debate_attendee.c.debate_id)
        .where(*public)
        .order_by(debate_attendee.c.debate_id, Organisation.name)
    ):
        attendees.setdefault(debate_id, []).append(name)
    records = []
    for row in rows:
        values = dict(zip(DEBATES.fields, (*row[:18], None, row[18], None), strict=True))
        values["format"] = row.format.value
        values["status"] = row.status.value
        for key in ("starts_at", "ends_at", "published_at", "cancelled_at"):
            values[key] = _iso(values[key])
        values["attendees"] = attendees.get(row.id, [])
        values["url"] = f"{base}/debats/{row.id}"
        records.append(values)
    return records


def _proposals(consultation: Consultation, base: str) -> list[dict[str, Any]]:
    """The public proposals as records (one query, the co-signatures counted in it)."""
    counts = (
        select(Cosignature.proposal_id, func.count(Cosignature.id).label("number"))
        .join(Proposal, Proposal.id == Cosignature.proposal_id)
        .where(Proposal.consultation_id == consultation.id)
        .group_by(Cosignature.proposal_id)
        .subquery("cosignature_counts")
    )
    rows = db.session.execute(
        select(
            Proposal.id,
            Proposal.title,
            Proposal.summary,
            Proposal.body,
            Proposal.rationale,
            Theme.name,
            Organisation.name,
            Proposal.source_kind,
            Proposal.region_code,
            Region.name,
            Proposal.debate_id,
            Debate.title,
            Proposal.status,
            Proposal.reason,
            Proposal.merged_into_id,
            Proposal.submitted_at,
            func.coalesce(counts.c.number, 0),
        )
        .join(Organisation, Organisation.id == Proposal.organisation_id)
        .outerjoin(Theme, Theme.id == Proposal.theme_id)
        .outerjoin(Region, Region.code == Proposal.region_code)
        .outerjoin(Debate, Debate.id == Proposal.debate_id)
        .outerjoin(counts, counts.c.proposal_id == Proposal.id)
        .where(Proposal.consultation_id == consultation.id, Proposal.status.in_(PUBLIC_STATUSES))
        .order_by(Proposal.id)
    )
    records = []
    for row in rows:
        values = dict(zip(PROPOSALS.fields, (*row, None), strict=True))
        values["source_kind"] = row.source_kind.value
        values["status"] = row.status.value
        values["submitted_at"] = _iso(values["submitted_at"])
        values["url"] = f"{base}/propositions/{row.id}"
        records.append(values)
    return records


def _final_labels(voting_round: VotingRound) -> dict[int, str]:
    """The final label of each article the round adopted: renumbered in document order, as the
    final text numbers them ("Article unique" for a lone one)."""
    adopted = {
        int(row["item"])
        for row in (voting_round.results or {}).get("items", [])
        if row["adopted"] and int(row["item"]) != WHOLE_TEXT
    }
    order = [
        int(article["id"])
        for article, _ in walk_snapshot(voting_round.bill_version.content)
        if int(article["id"]) in adopted
    ]
    return {item: article_label(n, len(order)) for n, item in enumerate(order, start=1)}


def _provenance(voting_round: VotingRound | None) -> list[dict[str, Any]]:
    if voting_round is None:
        return []
    version = voting_round.bill_version
    labels = _final_labels(voting_round)
    records = []
    for article, _ in walk_snapshot(version.content):
        for source in article.get("sources", []):
            records.append(
                {
                    "version": version.number,
                    "article_id": article["id"],
                    "article": article["label"],
                    "final_article": labels.get(int(article["id"])),
                    "proposal_id": source["proposal_id"],
                    "proposal": source["title"],
                    "organisation": source["organisation"],
                    "source_kind": source["source_kind"],
                    "region_code": source.get("region_code"),
                    "region": source.get("region"),
                    "debate_id": source.get("debate_id"),
                    "debate": source.get("debate_title"),
                }
            )
    return records


def _results(rounds: Sequence[VotingRound]) -> list[dict[str, Any]]:
    records = []
    for voting_round in rounds:
        content = voting_round.bill_version.content
        headings = {int(a["id"]): a.get("heading") or "" for a, _ in walk_snapshot(content)}
        labels = _final_labels(voting_round)
        for row in voting_round.results["items"]:
            item = int(row["item"])
            records.append(
                {
                    "round": voting_round.number,
                    "version": voting_round.bill_version.number,
                    "item": item,
                    "label": row["label"],
                    "heading": headings.get(item, ""),
                    "final_article": labels.get(item),
                    **{
                        key: row[key]
                        for key in (
                            "registered",
                            "voted",
                            "pour",
                            "contre",
                            "abstention",
                            "cast",
                            "quorum_reached",
                            "adopted",
                            "large_support",
                        )
                    },
                }
            )
    return records


def _log_name(voting_round: VotingRound) -> str:
    return f"jury/round-{voting_round.number}-ballot-log.json"


def _draw_name(draw: Draw) -> str:
    return f"jury/draw-{draw.number}.json"


def _version_name(version: BillVersion) -> str:
    return f"bill-versions/version-{version.number}.json"


# --- The README ----------------------------------------------------------------------------------


def _readme(consultation: Consultation, extra: list[tuple[str, str]]) -> bytes:
    lines = [
        f"Données ouvertes de la consultation « {consultation.title} » ({consultation.slug})",
        "",
        "Chaque table est fournie en CSV (UTF-8 sans BOM, séparateur virgule, guillemets au "
        "besoin ; une cellule qui commencerait par = + - @ est précédée d'une apostrophe, pour "
        "qu'un tableur ne la lise pas comme une formule) et en JSON (les mêmes enregistrements, "
        "listes en tableaux). Les dates sont en ISO 8601, à l'heure de Paris.",
        "",
        "Aucune donnée personnelle n'y figure : ni les inscriptions aux débats, ni les "
        "coordonnées des volontaires du vivier, ni l'identité des jurés. Les votes sont secrets ; "
        "le journal de chaque scrutin se vérifie avec `flask --app consultation jury verify`.",
        "",
        "Fichiers",
        "--------",
        "",
        "README.txt : ce fichier.",
        "consultation.json : la consultation, ses phases et leurs dates.",
    ]
    for table in TABLES:
        lines.append(f"{table.name}.csv, {table.name}.json : {table.description}")
    for name, description in extra:
        lines.append(f"{name} : {description}")
    for table in TABLES:
        lines += ["", f"Colonnes de {table.name}.csv", "-" * len(f"Colonnes de {table.name}.csv")]
        width = max(len(name) for name in table.fields)
        lines += [f"{name.ljust(width)}  {description}" for name, description in table.columns]
    return ("\n".join(lines) + "\n").encode()


# --- The bundle ----------------------------------------------------------------------------------


def build_open_data(consultation: Consultation) -> bytes:
    """The consultation's open data as a zip of CSV and JSON files with a README.txt."""
    base = f"{current_app.config['BASE_URL'].rstrip('/')}/consultations/{consultation.slug}"
    versions = list(
        db.session.scalars(
            select(BillVersion)
            .join(Bill, Bill.id == BillVersion.bill_id)
            .where(Bill.consultation_id == consultation.id)
            .order_by(BillVersion.number)
        )
    )
    # The rounds' versions are among those just loaded: reading them asks the database nothing.
    rounds = list(
        db.session.scalars(
            select(VotingRound)
            .where(VotingRound.consultation_id == consultation.id)
            .order_by(VotingRound.number)
        )
    )
    closed = [r for r in rounds if r.status is RoundStatus.CLOSED and r.results]
    draws = list(
        db.session.scalars(
            select(Draw).where(Draw.consultation_id == consultation.id).order_by(Draw.number)
        )
    )
    files: dict[str, bytes] = {}
    extra: list[tuple[str, str]] = []

    def add_table(table: Table, records: list[dict[str, Any]], key: str) -> None:
        files[f"{table.name}.csv"] = _csv(table, records)
        files[f"{table.name}.json"] = _json({"consultation": consultation.slug, key: records})

    files["consultation.json"] = _json(
        {
            "slug": consultation.slug,
            "title": consultation.title,
            "summary": consultation.summary,
            "phase": consultation.phase.value,
            "periods": [
                {"phase": p.phase.value, "starts_on": _iso(p.starts_on), "ends_on": _iso(p.ends_on)}
                for p in consultation.periods
            ],
            "url": f"{base}/",
        }
    )
    add_table(DEBATES, _debates(consultation, base), "debates")
    add_table(PROPOSALS, _proposals(consultation, base), "proposals")

    version_records = []
    for version in versions:
        # The canonical bytes: their SHA-256 is the version's published checksum.
        files[_version_name(version)] = canonical_json(version.content)
        version_records.append(
            {
                "number": version.number,
                "note": version.note,
                "frozen_at": _iso(version.frozen_at),
                "checksum": version.checksum,
                "article_count": version.content.get("article_count"),
                "file": _version_name(version),
            }
        )
    if versions:
        extra.append(
            ("bill-versions/version-N.json", "le contenu de la version N (JSON canonique)")
        )
    add_table(VERSIONS, version_records, "versions")

    add_table(PROVENANCE, _provenance(closed[-1] if closed else None), "provenance")

    round_records = []
    for voting_round in rounds:
        is_closed = voting_round in closed
        if is_closed:
            files[_log_name(voting_round)] = _json(ballots.export_log(voting_round))
        round_records.append(
            {
                "number": voting_round.number,
                "version": voting_round.bill_version.number,
                "status": voting_round.status.value,
                "opens_at": _iso(voting_round.opens_at),
                "closes_at": _iso(voting_round.closes_at),
                "closed_at": _iso(voting_round.closed_at),
                "quorum_percent": voting_round.quorum_percent,
                "threshold_percent": voting_round.threshold_percent,
                "registered": voting_round.results["registered"] if is_closed else None,
                "log_length": voting_round.log_length,
                "log_head": voting_round.log_head,
                "ballot_log": _log_name(voting_round) if is_closed else None,
            }
        )
    if closed:
        extra.append(
            (
                "jury/round-N-ballot-log.json",
                "le journal chaîné des votes du scrutin N et son dépouillement",
            )
        )
    add_table(ROUNDS, round_records, "rounds")
    add_table(RESULTS, _results(closed), "results")

    draw_records = []
    for draw in draws:
        data = public_draw_data(draw)
        files[_draw_name(draw)] = _json(data)
        draw_records.append(
            {
                **{name: data.get(name) for name in DRAWS.fields if name != "file"},
                "file": _draw_name(draw),
            }
        )
    if draws:
        extra.append(("jury/draw-N.json", "les données publiques du tirage N, pour le rejouer"))
    add_table(DRAWS, draw_records, "draws")

    files = {"README.txt": _readme(consultation, extra), **files}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            info = zipfile.ZipInfo(f"{consultation.slug}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, content)
    return buffer.getvalue()
