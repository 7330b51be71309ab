"""The jury draw: a pool frozen with a committed seed, the LEXIMIN lottery, and its replay.

A draw happens in two steps, so that nobody — staff included — can choose who is drawn:

1. *Commitment.* The pool (members' pseudonymous references and features) and the quotas are
   frozen into a public snapshot with its checksum, and a secret seed is generated; only the
   seed's SHA-256 (the commitment) is published.
2. *Lottery.* LEXIMIN gives a distribution over quota-respecting panels; the revealed seed picks
   one panel from it (`u = SHA-256("<seed>:panel") / 2^256` against the cumulative panel
   probabilities), then, within each type, the members whose `SHA-256("<seed>:<reference>")`
   are smallest. Anyone holding the published data replays it with `replay_draw`.

A replacement draw fills the seats of jurors who declined, from the members never drawn, with
the quotas reduced by the jurors who stay (min' = max(0, min − kept), max' = max − kept).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consultation.accounts.models import User
from consultation.bill.versions import canonical_json
from consultation.consultations.models import Consultation
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, NotFound
from consultation.core.jobs import job
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury.allocation import Progress
from consultation.jury.leximin import Distribution, check_feasible, leximin
from consultation.jury.members import lock_pool
from consultation.jury.models import (
    Category,
    Draw,
    DrawKind,
    DrawStatus,
    Juror,
    JurorStatus,
    MemberFeature,
    PoolMember,
)
from consultation.jury.pool import Member, Pool, Quota, build_pool

SNAPSHOT_FORMAT = "utiles-ensemble/jury-draw/1"
REFERENCE_COLUMN = "reference"
PANEL_LABEL = "panel"


class DrawError(DomainError):
    """A draw that cannot be committed, run or replayed as asked."""


# --- The pool, as the draw sees it -------------------------------------------------------------


def _categories(consultation: Consultation) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.consultation_id == consultation.id)
            .options(selectinload(Category.quotas))
            .order_by(Category.position, Category.id)
        )
    )


def _drawn_member_ids(consultation: Consultation) -> set[int]:
    return set(
        db.session.scalars(select(Juror.member_id).filter_by(consultation_id=consultation.id))
    )


def kept_jurors(consultation: Consultation) -> list[Juror]:
    """The drawn jurors who hold their seat: invited or accepted, not declined."""
    return list(
        db.session.scalars(
            select(Juror)
            .where(
                Juror.consultation_id == consultation.id,
                Juror.status != JurorStatus.DECLINED,
            )
            .options(selectinload(Juror.member).selectinload(PoolMember.features))
        )
    )


def seated_juror_count(consultation: Consultation) -> int:
    """How many drawn jurors hold their seat (one query)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Juror)
        .where(Juror.consultation_id == consultation.id, Juror.status != JurorStatus.DECLINED)
    )


def build_snapshot(
    consultation: Consultation, number: int, kind: DrawKind, panel_size: int
) -> dict[str, Any]:
    """The public, frozen input of a draw: quotas (reduced by the seats kept, for a
    replacement) and every member not drawn yet, by reference, sorted."""
    categories = _categories(consultation)
    if not categories:
        raise DrawError(_l("Define the categories and quotas of the pool before drawing."))
    quota_names = {
        quota.id: (category.name, quota.feature)
        for category in categories
        for quota in category.quotas
    }
    kept: Counter[tuple[str, str]] = Counter()
    if kind is DrawKind.REPLACEMENT:
        for juror in kept_jurors(consultation):
            kept.update(quota_names[feature.quota_id] for feature in juror.member.features)
    drawn = _drawn_member_ids(consultation)
    rows = db.session.execute(
        select(PoolMember.id, PoolMember.reference, MemberFeature.quota_id)
        .join(MemberFeature, MemberFeature.member_id == PoolMember.id)
        .where(PoolMember.consultation_id == consultation.id)
    )
    features: dict[str, dict[str, str]] = {}
    for member_id, reference, quota_id in rows:
        if member_id not in drawn:
            name, feature = quota_names[quota_id]
            features.setdefault(reference, {})[name] = feature
    names = [category.name for category in categories]
    return {
        "format": SNAPSHOT_FORMAT,
        "consultation": consultation.slug,
        "draw": number,
        "kind": kind.value,
        "algorithm": "leximin",
        "panel_size": panel_size,
        "categories": [
            {
                "name": category.name,
                "label": category.label,
                "quotas": [
                    {
                        "feature": quota.feature,
                        "label": quota.label,
                        "min": max(0, quota.min_count - kept[category.name, quota.feature]),
                        "max": max(0, quota.max_count - kept[category.name, quota.feature]),
                        "kept": kept[category.name, quota.feature],
                    }
                    for quota in category.quotas
                ],
            }
            for category in categories
        ],
        # Members missing a category (added before it existed) cannot be placed in the quotas.
        "members": [
            {"reference": reference, "features": [held[name] for name in names]}
            for reference, held in sorted(features.items())
            if all(name in held for name in names)
        ],
    }


def snapshot_pool(snapshot: dict[str, Any]) -> Pool:
    """The pool of a snapshot, its types in the order of the sorted references."""
    quotas = [
        Quota(category["name"], quota["feature"], quota["min"], quota["max"])
        for category in snapshot["categories"]
        for quota in category["quotas"]
    ]
    members = [
        Member(line, {REFERENCE_COLUMN: entry["reference"]}, tuple(entry["features"]))
        for line, entry in enumerate(snapshot["members"], start=1)
    ]
    return build_pool(quotas, (REFERENCE_COLUMN,), ",", members)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot_checksum(snapshot: dict[str, Any]) -> str:
    """SHA-256 of the snapshot's canonical JSON, published with the commitment."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


# --- Commitment --------------------------------------------------------------------------------


def _draws(consultation: Consultation) -> list[Draw]:
    return list(
        db.session.scalars(
            select(Draw).filter_by(consultation_id=consultation.id).order_by(Draw.number)
        )
    )


def seats_to_fill(consultation: Consultation) -> int:
    """Seats of the initial panel that no juror holds (left by those who declined)."""
    initial = next(
        (
            d
            for d in _draws(consultation)
            if d.kind is DrawKind.INITIAL and d.status is DrawStatus.DONE
        ),
        None,
    )
    if initial is None:
        return 0
    return max(0, initial.panel_size - len(kept_jurors(consultation)))


def commit_draw(
    consultation: Consultation,
    panel_size: int | None,
    actor: User | None,
    now: datetime,
    kind: DrawKind = DrawKind.INITIAL,
) -> Draw:
    """Freeze the pool and the quotas, generate the secret seed and publish its commitment.

    The initial draw takes `panel_size`; a replacement draw fills the seats left free."""
    # Applications and other commitments wait: the snapshot is the pool, whole and alone.
    lock_pool(consultation)
    draws = _draws(consultation)
    pending = next(
        (d for d in draws if d.status in (DrawStatus.COMMITTED, DrawStatus.RUNNING)), None
    )
    if pending is not None:
        raise Conflict(
            _l("Draw %(n)d is not finished: run it before committing another.", n=pending.number)
        )
    has_initial = any(d.kind is DrawKind.INITIAL and d.status is DrawStatus.DONE for d in draws)
    if kind is DrawKind.INITIAL:
        if has_initial:
            raise Conflict(
                _l("The jury has been drawn already: draw replacements for the declined seats.")
            )
        if panel_size is None or panel_size < 1:
            raise DrawError(_l("The panel size must be at least 1."), field="panel_size")
    else:
        if not has_initial:
            raise Conflict(_l("Draw the jury before drawing replacements."))
        panel_size = seats_to_fill(consultation)
        if panel_size == 0:
            raise Conflict(_l("No seat is free: every drawn juror holds their seat."))
    number = 1 + max((d.number for d in draws), default=0)
    snapshot = build_snapshot(consultation, number, kind, panel_size)
    pool = snapshot_pool(snapshot)
    if pool.size == 0:
        raise DrawError(_l("The pool has no member to draw from."))
    # Refuses, saying why, a panel larger than the pool and quotas no panel can meet.
    check_feasible(pool, panel_size)
    seed = secrets.token_hex(32)
    draw = Draw(
        consultation_id=consultation.id,
        number=number,
        kind=kind,
        algorithm="leximin",
        panel_size=panel_size,
        status=DrawStatus.COMMITTED,
        pool_snapshot=snapshot,
        pool_checksum=snapshot_checksum(snapshot),
        seed_commitment=_sha256(seed),
        seed=seed,
        committed_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(draw)
    db.session.flush()
    audit.record(
        "jury.draw_committed",
        draw,
        actor=actor,
        kind=kind.value,
        panel_size=panel_size,
        pool=pool.size,
        commitment=draw.seed_commitment,
    )
    return draw


# --- The lottery -------------------------------------------------------------------------------


def pick_panel(seed: str, probabilities: Iterable[float]) -> int:
    """The panel the seed picks: the first whose cumulative probability exceeds u."""
    weights = list(probabilities)
    u = int(_sha256(f"{seed}:{PANEL_LABEL}"), 16) / 2**256
    total = 0.0
    for index, weight in enumerate(weights):
        total += weight
        if u < total:
            return index
    return len(weights) - 1  # u beyond a sum rounded below 1


def pick_members(seed: str, pool: Pool, counts: Iterable[int]) -> list[str]:
    """Within each type, the `count` members whose seeded hash is smallest; sorted references."""
    chosen = []
    for member_type, count in zip(pool.types, counts, strict=True):
        references = [pool.members[index].row[REFERENCE_COLUMN] for index in member_type.members]
        references.sort(key=lambda reference: _sha256(f"{seed}:{reference}"))
        chosen.extend(references[:count])
    return sorted(chosen)


def distribution_data(pool: Pool, distribution: Distribution) -> dict[str, Any]:
    """The public form of a LEXIMIN distribution: types, probabilities, panels."""
    return {
        "minimum": distribution.minimum,
        "maximum": distribution.maximum,
        "mean": distribution.mean,
        "seconds": round(distribution.seconds, 3),
        "types": [
            {"features": list(member_type.features), "size": member_type.size, "probability": p}
            for member_type, p in zip(pool.types, distribution.type_probabilities, strict=True)
        ],
        "panels": [
            {"counts": list(counts), "probability": p}
            for counts, p in zip(distribution.panels, distribution.panel_probabilities, strict=True)
        ],
    }


def run_draw(draw: Draw, now: datetime, progress: Progress | None = None) -> list[Juror]:
    """Compute the distribution, reveal the seed and draw the panel; the drawn members become
    jurors awaiting their invitation."""
    draw.start()
    pool = snapshot_pool(draw.pool_snapshot)
    distribution = leximin(pool, draw.panel_size, progress)
    data = distribution_data(pool, distribution)
    index = pick_panel(draw.seed, distribution.panel_probabilities)
    references = pick_members(draw.seed, pool, distribution.panels[index])
    members = db.session.scalars(
        select(PoolMember).where(
            PoolMember.consultation_id == draw.consultation_id,
            PoolMember.reference.in_(references),
        )
    ).all()
    jurors = [
        Juror(
            consultation_id=draw.consultation_id,
            draw_id=draw.id,
            member_id=member.id,
            status=JurorStatus.INVITED,
        )
        for member in members
    ]
    db.session.add_all(jurors)
    draw.finish(data, index, now)
    db.session.flush()
    audit.record(
        "jury.draw_done",
        draw,
        actor=None,
        panel=index,
        jurors=len(jurors),
        minimum=distribution.minimum,
    )
    return jurors


@job()
def draw_job(draw_id: int) -> None:
    """Run a committed draw in the background, committing its progress as it goes."""
    draw = db.session.get(Draw, draw_id)
    if draw is None or draw.status is not DrawStatus.COMMITTED:
        return

    def report(done: int, total: int) -> None:
        # Committed at once, so that the progress page (another transaction) sees it.
        draw.progress_done, draw.progress_total = done, total
        db.session.commit()

    try:
        run_draw(draw, utcnow(), report)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        draw = db.session.get(Draw, draw_id)
        if draw is not None:
            draw.fail(str(getattr(error, "message", error)))
            db.session.commit()
        if not isinstance(error, DomainError):
            raise


def start_draw(draw: Draw, actor: User | None) -> None:
    """Check that a draw can run, and record who ran it; the caller commits, then queues
    `draw_job`, which reads the draw in its own transaction."""
    if draw.status is not DrawStatus.COMMITTED:
        raise Conflict(_l("Draw %(n)d has already been run.", n=draw.number))
    audit.record("jury.draw_started", draw, actor=actor)


# --- Public data and replay --------------------------------------------------------------------


def public_draw_data(draw: Draw) -> dict[str, Any]:
    """What anyone may know of a draw: never who was drawn, only what replays it. The seed
    and the distribution appear once the draw is done."""
    done = draw.status is DrawStatus.DONE
    return {
        "number": draw.number,
        "kind": draw.kind.value,
        "algorithm": draw.algorithm,
        "status": draw.status.value,
        "panel_size": draw.panel_size,
        "pool_size": len(draw.pool_snapshot.get("members", [])),
        "committed_at": draw.committed_at.isoformat(),
        "drawn_at": draw.drawn_at.isoformat() if draw.drawn_at else None,
        "pool_checksum": draw.pool_checksum,
        "seed_commitment": draw.seed_commitment,
        "seed": draw.seed if done else None,
        "panel_index": draw.panel_index if done else None,
        "distribution": draw.distribution if done else None,
        "pool": draw.pool_snapshot,
    }


def replay_draw(data: dict[str, Any]) -> list[str]:
    """Check a draw's published data and return the references its seed selects.

    Checks the pool against its checksum, the seed against its commitment, and that the
    distribution covers the pool's types and gives a panel of the right size."""
    problems = []
    pool_data = data.get("pool") or {}
    seed = data.get("seed")
    distribution = data.get("distribution")
    if not seed or not distribution:
        raise DrawError(_l("This draw has not been run: its seed is not revealed yet."))
    if snapshot_checksum(pool_data) != data.get("pool_checksum"):
        problems.append(str(_l("The pool does not match its published checksum.")))
    if _sha256(seed) != data.get("seed_commitment"):
        problems.append(str(_l("The seed does not match its published commitment.")))
    pool = snapshot_pool(pool_data)
    types = [(tuple(t["features"]), t["size"]) for t in distribution["types"]]
    if types != [(t.features, t.size) for t in pool.types]:
        problems.append(str(_l("The distribution's types are not the pool's.")))
    panels = distribution["panels"]
    index = pick_panel(seed, (panel["probability"] for panel in panels))
    if data.get("panel_index") is not None and index != data["panel_index"]:
        problems.append(str(_l("The seed picks another panel than the one published.")))
    counts = panels[index]["counts"]
    if sum(counts) != data.get("panel_size"):
        problems.append(str(_l("The panel picked does not have the published size.")))
    if problems:
        raise DrawError(" ".join(problems))
    return pick_members(seed, pool, counts)


def find_draw(consultation: Consultation, number: int) -> Draw:
    """One draw of the consultation, or 404."""
    draw = db.session.scalar(select(Draw).filter_by(consultation_id=consultation.id, number=number))
    if draw is None:
        raise NotFound(_l("This consultation has no draw %(n)d.", n=number))
    return draw


def list_draws(consultation: Consultation) -> list[Draw]:
    """The consultation's draws, first first."""
    return _draws(consultation)


def juror_counts(consultation: Consultation) -> dict[JurorStatus, int]:
    """How many jurors are invited, accepted and declined."""
    rows = db.session.execute(
        select(Juror.status, func.count())
        .where(Juror.consultation_id == consultation.id)
        .group_by(Juror.status)
    )
    counts = dict.fromkeys(JurorStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def labelled_types(draw: Draw) -> list[dict[str, Any]]:
    """The distribution's types with the labels of their features, for people to read."""
    labels = [
        {quota["feature"]: quota["label"] for quota in category["quotas"]}
        for category in draw.pool_snapshot["categories"]
    ]
    return [
        {
            "features": [
                names.get(feature, feature)
                for names, feature in zip(labels, member_type["features"], strict=True)
            ],
            "size": member_type["size"],
            "probability": member_type["probability"],
        }
        for member_type in (draw.distribution or {}).get("types", [])
    ]
