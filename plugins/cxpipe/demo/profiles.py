"""Demo profiles: businesses shaped unlike the default retailer, onboarded by configuration alone.

``cxpipe demo --profile <name>`` writes the landing files such a business would export, in the
contract's file names and columns (:mod:`cxpipe.contracts`) but with the business's own values,
formats and gaps. Nothing else in cxpipe knows these profiles: each one is onboarded by the
files in ``deploy/profiles/<name>/`` (``cxpipe.env``: which sources it has, the contract
overrides, the reporting currency; ``contract.yml``: timezone, timestamp formats, optional
entities) and by rows of the mapping seeds (``dbt_project/seeds/*_map.csv``).

* ``marketplace`` — an online marketplace in Brazil: sales and surveys only (no CRM, no social,
  no stores, no returns file), prices in BRL, naive local timestamps in ``America/Sao_Paulo``
  (some day-first), its own order statuses (``created`` … ``unavailable``) and category tree
  (``moveis_decoracao``, ``beleza_saude`` …), channels ``site``/``aplicativo``, cancellations
  and credit notes (negative orders), review comments in Portuguese.
* ``service_desk`` — a service desk: CRM tickets only (no customers file), in English,
  channels ``Web``, ``Referral``, ``Postal mail``, ``Phone``, ``Fax``, ``E-mail``, day-first
  local times in ``Europe/London``.

The output depends only on the spec (seed, dates, size); a profile is small by default and is
built in memory (a few thousand rows a landing date at the default size).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from cxpipe.contracts import ORDER_LINES, ORDERS, RESPONSES, TICKETS, Entity
from cxpipe.demo import texts
from cxpipe.demo.generator import DemoSpec

#: The default demo (the furniture retailer of :mod:`cxpipe.demo.generator`) and the profiles here.
DEFAULT_PROFILE = "retailer"

Rows = dict[date, list[dict[str, object]]]


def _hex(*parts: object) -> str:
    """A 32-hex-digit id, as the marketplace's systems export them (deterministic)."""
    return hashlib.md5("-".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def _landing_dates(spec: DemoSpec) -> list[date]:
    return [spec.start + timedelta(days=n) for n in range(spec.days)]


def _landing_date_of(event: date, dates: list[date]) -> date | None:
    """The landing date whose export carries an event of ``event``: the first holds all history."""
    if event <= dates[0]:
        return dates[0]
    return event if event <= dates[-1] else None  # not happened yet when the last export ran


def _write(folder: Path, entity: Entity, rows: list[dict[str, object]], rng: random.Random, dup: float) -> int:
    """Write one landing file in the contract's columns; a few rows twice, as exports do."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / entity.file_name
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh) if entity.file_format == "csv" else None
        if writer is not None:
            writer.writerow(entity.column_names)
        for row in rows:
            for _ in range(2 if rng.random() < dup else 1):
                if writer is not None:
                    writer.writerow([row.get(c, "") for c in entity.column_names])
                else:
                    fh.write(json.dumps({c: row.get(c) for c in entity.column_names}, ensure_ascii=False) + "\n")
                count += 1
    return count


def _write_all(landing_dir: Path, spec: DemoSpec, files: dict[Entity, Rows]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity, by_date in files.items():
        key = f"{entity.source}/{entity.name}"
        counts[key] = 0
        for day in _landing_dates(spec):
            rng = random.Random(f"{spec.seed}-{key}-{day.isoformat()}")
            rows = by_date.get(day, [])
            counts[key] += _write(landing_dir / entity.source / day.isoformat(), entity, rows, rng, 0.003)
    return counts


def _daily_count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, max(2.0, math.sqrt(mean)))))


# ------------------------------------------------------------------ marketplace

#: The marketplace's category tree (mapped to the business's tree by the seed ``category_map``).
MARKETPLACE_CATEGORIES = (
    ("cama_mesa_banho", 14, 80.0),
    ("beleza_saude", 13, 95.0),
    ("esporte_lazer", 11, 110.0),
    ("moveis_decoracao", 11, 150.0),
    ("informatica_acessorios", 9, 190.0),
    ("utilidades_domesticas", 9, 70.0),
    ("relogios_presentes", 7, 220.0),
    ("telefonia", 6, 130.0),
    ("ferramentas_jardim", 5, 120.0),
    ("moveis_escritorio", 3, 420.0),
)
MARKETPLACE_CITIES = (
    "Sao Paulo",
    "Sao Paulo",
    "Sao Paulo",
    "Rio de Janeiro",
    "Rio de Janeiro",
    "Belo Horizonte",
    "Curitiba",
    "Porto Alegre",
    "Salvador",
    "Brasilia",
    "Campinas",
)
MARKETPLACE_COMMENTS = {
    "late": (
        "Produto chegou com mais de uma semana de atraso, ninguém avisou nada.",
        "Entrega atrasada!! Prazo era dia {promised} e nada até agora",
        "Demorou demais pra chegar, não compro mais nessa loja",
        "atrasou muito a entrega, o rastreio ficou parado dias",
    ),
    "bad": (
        "Veio faltando uma peça e o vendedor não responde.",
        "Produto diferente do anúncio, qualidade péssima",
        "Recebi o produto quebrado, quero meu dinheiro de volta",
        "Comprei 2 unidades e só veio 1",
    ),
    "good": (
        "Chegou antes do prazo, produto ótimo. Recomendo!",
        "Muito bom, bem embalado e dentro do prazo",
        "Excelente vendedor, entrega rápida 👍",
        "Produto de qualidade, gostei muito",
        "tudo certo, recebi direitinho",
    ),
    "cancelled": (
        "Cancelaram minha compra sem explicação",
        "Produto indisponível depois de pago, que absurdo",
    ),
}


def _local(day: date, seconds: int) -> datetime:
    """A naive wall-clock time in São Paulo, as the marketplace's exports write them."""
    return datetime.combine(day, time(0)) + timedelta(seconds=seconds)


def _stamp(value: datetime | None, rng: random.Random) -> str:
    """``YYYY-MM-DD HH:MM:SS`` without an offset; some rows day-first (a back-office export)."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y %H:%M" if rng.random() < 0.1 else "%Y-%m-%d %H:%M:%S")


@dataclass
class _Marketplace:
    spec: DemoSpec
    dates: list[date]

    def __post_init__(self) -> None:
        self.orders: Rows = {}
        self.lines: Rows = {}
        self.responses: Rows = {}
        self.last = datetime.combine(self.dates[-1], time(23, 59))

    def _put(self, bucket: Rows, when: datetime, row: dict[str, object]) -> None:
        landing = _landing_date_of(when.date(), self.dates)
        if landing is not None and when <= self.last:
            bucket.setdefault(landing, []).append(row)

    def run(self) -> None:
        spec = self.spec
        first = spec.start - timedelta(days=spec.history_days)
        for offset in range((self.dates[-1] - first).days + 1):
            day = first + timedelta(days=offset)
            rng = random.Random(f"{spec.seed}-marketplace-{day.isoformat()}")
            for n in range(_daily_count(rng, spec.orders_per_day)):
                self.order(day, n, rng)

    def order(self, day: date, n: int, rng: random.Random) -> None:
        order_id = _hex(self.spec.seed, "order", day, n)
        customer_id = _hex(self.spec.seed, "customer", rng.randrange(self.spec.customers))
        ordered = _local(day, rng.randrange(0, 24 * 3600))  # late evenings are the next UTC day
        channel = rng.choices(("site", "aplicativo"), weights=(60, 40))[0]
        promised = (ordered + timedelta(days=rng.randrange(7, 26))).date()
        delay = rng.choices((-9, -5, -2, 0, 2, 5, 10), weights=(20, 25, 15, 10, 12, 10, 8))[0]
        roll = rng.random()
        status = "canceled" if roll < 0.04 else "unavailable" if roll < 0.05 else "delivered"
        delivered: datetime | None = None
        if status == "delivered":
            delivered = datetime.combine(promised + timedelta(days=delay), time(0)) + timedelta(
                minutes=rng.randrange(9 * 60, 21 * 60)
            )
            if delivered > self.last:  # still on its way when the export ran
                delivered = None
                age = (self.last - ordered).days
                status = "shipped" if age > 3 else "invoiced" if age > 1 else rng.choice(("created", "approved"))
        lines = []
        for k in range(rng.choice((1, 1, 1, 1, 2, 2, 3))):
            category, _, mean_price = rng.choices(
                MARKETPLACE_CATEGORIES, weights=[w for _, w, _ in MARKETPLACE_CATEGORIES]
            )[0]
            price = round(rng.lognormvariate(math.log(mean_price), 0.6), 2)
            quantity = rng.choice((1, 1, 1, 2))
            lines.append(
                {
                    "line_id": f"{order_id}-{k + 1}",
                    "order_id": order_id,
                    "product_id": _hex(self.spec.seed, "product", category, rng.randrange(300)),
                    "category": category,
                    "quantity": quantity,
                    "qty_fulfilled": 0 if status == "unavailable" else quantity,
                    "stock_promised": "",
                    "shown_price": price,
                    "unit_price": price,
                    "discount": round(price * quantity * 0.1, 2) if rng.random() < 0.12 else 0,
                }
            )
        total = round(
            sum(float(str(ln["unit_price"])) * int(str(ln["quantity"])) - float(str(ln["discount"])) for ln in lines), 2
        )
        self._order_rows(order_id, customer_id, channel, ordered, promised, delivered, status, total, lines, rng)
        late = delivered is not None and delivered.date() > promised
        if status in ("canceled", "unavailable"):
            if rng.random() < 0.3:
                self._response(order_id, customer_id, channel, ordered, 1.6, "cancelled", promised, rng)
            return
        if delivered is None:
            return
        faulty = rng.random() < 0.06
        if faulty and rng.random() < 0.6:
            self._credit_note(order_id, customer_id, channel, delivered, lines, rng)
        if rng.random() < 0.45:
            base = 4.6 - (2.2 if late else 0) - (2.0 if faulty else 0)
            mood = "late" if late else "bad" if faulty else "good"
            self._response(order_id, customer_id, channel, delivered, base, mood, promised, rng)

    def _order_rows(
        self,
        order_id: str,
        customer_id: str,
        channel: str,
        ordered: datetime,
        promised: date,
        delivered: datetime | None,
        status: str,
        total: float,
        lines: list[dict[str, object]],
        rng: random.Random,
    ) -> None:
        row: dict[str, object] = {
            "order_id": order_id,
            "customer_id": customer_id,
            "channel": channel,
            "store_id": "",
            "country": "BR",
            "city": rng.choice(MARKETPLACE_CITIES),
            "ordered_at": _stamp(ordered, rng),
            "promised_date": promised.strftime("%d/%m/%Y"),
            "delivered_at": _stamp(delivered, rng),
            "status": status,
            "order_total": total,
            "currency": "BRL",
        }
        self._put(self.orders, ordered, row)
        for line in lines:
            self._put(self.lines, ordered, line)

    def _credit_note(
        self,
        order_id: str,
        customer_id: str,
        channel: str,
        delivered: datetime,
        lines: list[dict[str, object]],
        rng: random.Random,
    ) -> None:
        """A credit note (nota de devolução) for one line of a delivered order: a negative order."""
        line = rng.choice(lines)
        note_id = f"{order_id}-dev"
        credited = delivered + timedelta(days=rng.randrange(2, 15), minutes=rng.randrange(600))
        note_line = {
            **line,
            "line_id": f"{note_id}-1",
            "order_id": note_id,
            "quantity": -int(str(line["quantity"])),
            "qty_fulfilled": "",
            "discount": -float(str(line["discount"])),
        }
        amount = round(
            float(str(line["unit_price"])) * int(str(note_line["quantity"])) + float(str(line["discount"])), 2
        )
        row: dict[str, object] = {
            "order_id": note_id,
            "customer_id": customer_id,
            "channel": channel,
            "store_id": "",
            "country": "BR",
            "city": "",
            "ordered_at": _stamp(credited, rng),
            "promised_date": "",
            "delivered_at": "",
            "status": "invoiced",
            "order_total": amount,
            "currency": "BRL",
        }
        self._put(self.orders, credited, row)
        self._put(self.lines, credited, note_line)

    def _response(
        self,
        order_id: str,
        customer_id: str,
        channel: str,
        after: datetime,
        base: float,
        mood: str,
        promised: date,
        rng: random.Random,
    ) -> None:
        csat = min(5, max(1, round(rng.gauss(base, 0.6))))
        nps = min(10, max(0, round(rng.gauss(csat * 2 - 0.3, 1.1))))
        comment = ""
        if rng.random() < (0.7 if mood != "good" else 0.35):
            comment = rng.choice(MARKETPLACE_COMMENTS[mood]).format(promised=promised.strftime("%d/%m"))
        answered = after + timedelta(hours=rng.randrange(6, 24 * 8))
        row: dict[str, object] = {
            "response_id": _hex(self.spec.seed, "review", order_id),
            "customer_id": customer_id,
            "order_id": order_id,
            "touchpoint": "delivery" if mood != "cancelled" else ("web_shop" if channel == "site" else "app"),
            "channel": channel,
            "responded_at": _stamp(answered, rng),
            "csat": csat,
            "nps": nps,
            "ces": "",  # the marketplace's review form asks no effort question
            "comment": comment,
        }
        self._put(self.responses, answered, row)


def _marketplace(landing_dir: Path, spec: DemoSpec) -> dict[str, int]:
    world = _Marketplace(spec, _landing_dates(spec))
    world.run()
    return _write_all(landing_dir, spec, {ORDERS: world.orders, ORDER_LINES: world.lines, RESPONSES: world.responses})


# ------------------------------------------------------------------ service desk

#: Contact channels as the service desk's tool names them, with weights.
SERVICE_DESK_CHANNELS = (("Web", 38), ("E-mail", 27), ("Phone", 20), ("Referral", 8), ("Postal mail", 5), ("Fax", 2))
SERVICE_DESK_CAUSES = ("communication", "price_billing", "website_app", "staff", "product_quality", "late_delivery")


def _service_desk(landing_dir: Path, spec: DemoSpec) -> dict[str, int]:
    dates = _landing_dates(spec)
    last = datetime.combine(dates[-1], time(23, 59))
    tickets: Rows = {}
    first = spec.start - timedelta(days=spec.history_days)
    names, weights = zip(*SERVICE_DESK_CHANNELS, strict=True)
    for offset in range((dates[-1] - first).days + 1):
        day = first + timedelta(days=offset)
        rng = random.Random(f"{spec.seed}-service-desk-{day.isoformat()}")
        weekend = day.weekday() >= 5
        for n in range(_daily_count(rng, spec.orders_per_day * (0.3 if weekend else 0.6))):
            channel = rng.choices(names, weights=weights)[0]
            created = _local(day, rng.randrange(7 * 3600, 19 * 3600))
            slow = channel in ("Postal mail", "Fax")
            first_response = created + timedelta(minutes=rng.randrange(10, 4 * 24 * 60 if slow else 30 * 60))
            resolved = first_response + timedelta(hours=rng.randrange(1, 96)) if rng.random() < 0.85 else None
            row: dict[str, object] = {
                "ticket_id": f"SD-{day.strftime('%y%m%d')}-{n + 1:04d}",
                "customer_id": f"ACC{rng.randrange(spec.customers) + 10_000:06d}" if rng.random() < 0.8 else None,
                "order_id": None,
                "channel": channel,
                "created_at": created.strftime("%d/%m/%Y %H:%M"),
                "first_response_at": first_response.strftime("%d/%m/%Y %H:%M") if first_response <= last else None,
                "resolved_at": resolved.strftime("%d/%m/%Y %H:%M") if resolved and resolved <= last else None,
                "reopen_count": rng.choices((0, 1, 2), weights=(80, 15, 5))[0],
                "text": texts.complaint(rng.choice(SERVICE_DESK_CAUSES), "en", rng),
            }
            landing = _landing_date_of(day, dates)
            if landing is not None:
                tickets.setdefault(landing, []).append(row)
    return _write_all(landing_dir, spec, {TICKETS: tickets})


#: Profile name -> generator. The default demo is :func:`cxpipe.demo.generator.generate`.
PROFILES: dict[str, Callable[[Path, DemoSpec], dict[str, int]]] = {
    "marketplace": _marketplace,
    "service_desk": _service_desk,
}


def generate_profile(profile: str, landing_dir: Path, spec: DemoSpec) -> dict[str, int]:
    """Write the landing files of demo profile ``profile``; return the row count per ``source/entity``."""
    if profile == DEFAULT_PROFILE:
        from cxpipe.demo.generator import generate

        return generate(landing_dir, spec)
    try:
        make = PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"unknown demo profile {profile!r}; expected one of {', '.join([DEFAULT_PROFILE, *PROFILES])}"
        ) from None
    return make(landing_dir, spec)
