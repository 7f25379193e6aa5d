"""Deterministic demo data for all four sources, written as landing files.

A retailer with stores and online channels in Sweden, Germany, the UK, China
and Russia. The first landing date carries an initial export with
``history_days`` of history; each later date carries that day's new records, as
source systems drop them. Rows are streamed to disk as they are made, so the
size is bounded by the disk, not by memory (:meth:`DemoSpec.at_scale`: SF 1 is
about 10 k customers, 100 k order lines, 20 k survey responses and 30 k posts).

What happens drives how customers answer: a late delivery, a stock-out or an
overcharge lowers CSAT, NPS and CES and makes a complaint likely, and complaint
texts name what went wrong in the customer's language (:mod:`cxpipe.demo.texts`).
Names, e-mails and phones come from Faker in each country's locale. Like real
exports, the files are a little messy: a UTF-8 byte-order mark on the sales
files, mixed date formats, multi-line comments, exact duplicate rows, rows that
arrive a day or two late and a small share of broken values (out-of-range
scores and counts, junk dates; sales amounts have no bounds since credit notes
load) that ingest must quarantine.

The Chinese and Russian stores' point-of-sale exports land beside the main sales
files as extra parts in their systems' code pages, ``orders.pos-cn.csv`` and
``order_lines.pos-cn.csv`` in GBK, ``….pos-ru.csv`` in CP1251 (:data:`POS_EXPORTS`),
with cities in the local script, and nobody declares their encoding: ingest must
recognise it. A part too short to be recognised is written in UTF-8 instead
(:meth:`_Sink.close`).
"""

from __future__ import annotations

import csv
import functools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO

import charset_normalizer
from faker import Faker

from cxpipe.contracts import (
    CATEGORIES,
    CHANNELS,
    CUSTOMERS,
    ORDER_LINES,
    ORDERS,
    POSTS,
    RESPONSES,
    RETURNS,
    STORES,
    TICKET_CHANNELS,
    TICKETS,
    Entity,
)
from cxpipe.demo import texts
from cxpipe.settings import DEFAULT_ENCODINGS

COUNTRIES = {
    "SE": ["Stockholm", "Malmo", "Gothenburg", "Uppsala"],
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne"],
    "GB": ["London", "Leeds", "Bristol", "Manchester"],
    "CN": ["Shanghai", "Beijing", "Shenzhen", "Chengdu"],
    "RU": ["Moscow", "Kazan", "Saint Petersburg", "Novosibirsk"],
}
COUNTRY_WEIGHTS = {"SE": 25, "DE": 25, "GB": 20, "CN": 15, "RU": 15}
LOCALE = {"SE": "sv_SE", "DE": "de_DE", "GB": "en_GB", "CN": "zh_CN", "RU": "ru_RU"}
CURRENCY = {"SE": "SEK", "DE": "EUR", "GB": "GBP", "CN": "CNY", "RU": "RUB"}
#: Languages customers of each country write in, with weights (Swedes and Germans often write English).
LANGUAGES = {
    "SE": (("sv", 60), ("en", 40)),
    "DE": (("de", 85), ("en", 15)),
    "GB": (("en", 100),),
    "CN": (("zh", 95), ("en", 5)),
    "RU": (("ru", 95), ("en", 5)),
}
PLATFORMS_BY_COUNTRY = {
    "SE": ("twitter", "facebook", "instagram", "trustpilot"),
    "DE": ("twitter", "facebook", "instagram", "trustpilot"),
    "GB": ("twitter", "facebook", "instagram", "trustpilot"),
    "CN": ("weibo", "weibo", "weibo", "trustpilot"),
    "RU": ("vk", "vk", "vk", "trustpilot"),
}
#: Stores of these countries run their own point-of-sale system. Its daily export of the orders a
#: store sold or handed over, and their lines, lands as an extra part of each entity
#: (``orders.pos-cn.csv``; ingest reads ``<entity>.<part>.csv`` after the main file) in the code
#: page that system writes, with the city in the local script.
POS_EXPORTS = {"CN": ("pos-cn", "gbk"), "RU": ("pos-ru", "cp1251")}
POS_ENTITIES = ("orders", "order_lines")
#: The city as the point-of-sale system writes it. The Russian tills write capitals, as on their
#: receipts; that also makes CP1251 recognisable: it differs from Mac Cyrillic only in capitals
#: and a few signs, and mixed-case city names alone were read as Mac Cyrillic in about 1 file of 13.
LOCAL_CITY = {
    "Shanghai": "上海",
    "Beijing": "北京",
    "Shenzhen": "深圳",
    "Chengdu": "成都",
    "Moscow": "МОСКВА",
    "Kazan": "КАЗАНЬ",
    "Saint Petersburg": "САНКТ-ПЕТЕРБУРГ",
    "Novosibirsk": "НОВОСИБИРСК",
}
#: Encodings of the demo's own exports; any other (a point-of-sale code page) is checked at close.
_UNICODE = ("utf-8", "utf-8-sig")
#: A point-of-sale file up to this size is read back to check its encoding is recognised; bigger
#: ones hold thousands of rows of local-script text (detection samples a few 512-byte chunks of a
#: file, each of which holds several such rows).
_CHECK_BYTES = 8_000_000
TIERS = ("none", "member", "member", "silver", "gold")
#: Per order: share answering a survey, posting about it, and independent posts (buzz) per order.
RESPONSE_RATE = 0.33
ORDER_POST_RATE = 0.2
BUZZ_POSTS_PER_ORDER = 0.4
#: Mean number of lines per order (choices below), used to size a scale factor.
_LINE_CHOICES = (1, 1, 1, 2, 2, 3, 4)
MEAN_LINES = sum(_LINE_CHOICES) / len(_LINE_CHOICES)


@dataclass(frozen=True)
class DemoSpec:
    start: date
    days: int = 1
    history_days: int = 120
    customers: int = 400
    orders_per_day: float = 25.0
    seed: int = 42
    bad_row_share: float = 0.01
    #: Exact duplicate rows in a file, and rows that land one or two dates late.
    duplicate_share: float = 0.002
    late_share: float = 0.01

    @classmethod
    def at_scale(cls, scale: float, start: date, days: int = 1, history_days: int = 120, seed: int = 42) -> DemoSpec:
        """SF 1 ≈ 10 k customers and 100 k order lines over all landing dates
        (≈ 20 k survey responses and 30 k social posts follow from the rates)."""
        if scale <= 0:
            raise ValueError(f"scale factor must be positive, got {scale}")
        total_days = history_days + days
        return cls(
            start=start,
            days=days,
            history_days=history_days,
            customers=max(10, round(10_000 * scale)),
            orders_per_day=100_000 * scale / MEAN_LINES / total_days,
            seed=seed,
        )


@dataclass(frozen=True)
class _Locale:
    people: tuple[tuple[str, str], ...]
    users: tuple[str, ...]
    domains: tuple[str, ...]
    phones: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _locales(seed: int) -> dict[str, _Locale]:
    """Pools of names, user names, mail domains and phones per country, drawn with Faker."""
    pools: dict[str, _Locale] = {}
    for country, locale in LOCALE.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        people = [(fake.first_name_male(), fake.last_name_male()) for _ in range(150)]
        people += [(fake.first_name_female(), fake.last_name_female()) for _ in range(150)]
        pools[country] = _Locale(
            people=tuple(people),
            users=tuple(fake.user_name() for _ in range(400)),
            domains=tuple(sorted({fake.free_email_domain() for _ in range(30)})),
            phones=tuple(fake.phone_number() for _ in range(300)),
        )
    return pools


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


def _messy_ts(value: datetime, rng: random.Random) -> str:
    """Mostly ISO 8601 in UTC; sometimes with an offset or a space, as exports do."""
    roll = rng.random()
    if roll < 0.9:
        return _iso(value)
    if roll < 0.95:
        return (value + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    return value.strftime("%Y-%m-%d %H:%M:%S")


class _Sink:
    """One landing file, written row by row; occasionally duplicates or breaks a row."""

    def __init__(self, path: Path, entity: Entity, spec: DemoSpec, rng: random.Random, encoding: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.entity = entity
        self.encoding = encoding
        self.columns = entity.column_names
        self.spec = spec
        self.rng = rng
        self.count = 0
        self.fh: IO[str] = path.open("w", encoding=encoding, newline="")
        self.csv = csv.writer(self.fh) if entity.file_format == "csv" else None
        if self.csv is not None:
            self.csv.writerow(self.columns)
        self.numeric = [c for c in entity.columns if c.minimum is not None or c.maximum is not None]
        self.stamps = [c.name for c in entity.columns if c.type in ("timestamp", "date") and c.required]

    def write(self, row: dict[str, object]) -> None:
        if self.rng.random() < self.spec.bad_row_share:
            row = self._break(dict(row))
        self._emit(row)
        if self.rng.random() < self.spec.duplicate_share:
            self._emit(row)

    def _emit(self, row: dict[str, object]) -> None:
        if self.csv is not None:
            self.csv.writerow([row.get(c, "") for c in self.columns])
        else:
            self.fh.write(json.dumps({c: row.get(c) for c in self.columns}, ensure_ascii=False) + "\n")
        self.count += 1

    def _break(self, row: dict[str, object]) -> dict[str, object]:
        """Corrupt a row the way real exports do: out-of-range number or junk date."""
        if self.numeric and (not self.stamps or self.rng.random() < 0.75):
            col = self.rng.choice(self.numeric)
            row[col.name] = col.maximum + 1 if col.maximum is not None else -1
        elif self.stamps:
            row[self.rng.choice(self.stamps)] = self.rng.choice(("31/31/2026", "n/a", "yesterday"))
        return row

    def close(self) -> None:
        """Close the file; a code-page file whose encoding cannot be recognised is rewritten as UTF-8.

        Ingest detects the encoding of a file nobody declared (``CX_ENCODING_…``); a file with only a
        few rows of local text (a later date of a small demo) is too short for that and would be
        read with the wrong code page, so it is written in UTF-8 like a till set up for Unicode.
        """
        self.fh.close()
        if self.encoding in _UNICODE or self.path.stat().st_size > _CHECK_BYTES:
            return
        data = self.path.read_bytes()
        if not _reads_back(data, self.encoding):
            self.path.write_bytes(data.decode(self.encoding).encode("utf-8"))
            self.encoding = "utf-8"


def _reads_back(data: bytes, encoding: str) -> bool:
    """Whether ``data``, written in ``encoding``, is read back as the same text when nobody declares
    its encoding: as strict UTF-8 when it is valid UTF-8 (ASCII is), else as charset-normalizer's
    best guess among the default encodings, as :mod:`cxpipe.ingest.decoding` reads it (a GBK file
    read as GB18030, its superset, is the same text)."""
    text = data.decode(encoding)
    try:
        return data.decode("utf-8") == text
    except UnicodeDecodeError:
        pass
    candidates = [e for e in DEFAULT_ENCODINGS if e != "utf-8"]  # ingest detects among these only
    best = charset_normalizer.from_bytes(data, cp_isolation=candidates).best()
    if best is None:
        return False
    try:
        return data.decode(best.encoding) == text
    except UnicodeDecodeError:
        return False


class _World:
    """Customers and stores, drawn once from the seed; customer details are recomputed on demand."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.locales = _locales(spec.seed)
        rng = random.Random(spec.seed)
        self.first_day = spec.start - timedelta(days=spec.history_days)
        countries = list(COUNTRIES)
        weights = [COUNTRY_WEIGHTS[c] for c in countries]
        self.country_of = bytes(rng.choices(range(len(countries)), weights=weights, k=spec.customers))
        self.countries = countries
        self.stores: list[dict[str, object]] = []
        self.stores_by_country: dict[str, list[str]] = {}
        for n, (country, city) in enumerate(((c, city) for c, cities in COUNTRIES.items() for city in cities), 1):
            store_id = f"S{n:03d}"
            self.stores.append(
                {
                    "store_id": store_id,
                    "store_name": f"CX {city}" + (" Centrum" if n % 3 == 0 else ""),
                    "country": country,
                    "city": city,
                    "opened_date": (self.first_day - timedelta(days=365 * (1 + n % 7))).isoformat(),
                }
            )
            self.stores_by_country.setdefault(country, []).append(store_id)

    def country(self, index: int) -> str:
        return self.countries[self.country_of[index]]

    def customer(self, index: int, updated: date | None = None) -> dict[str, object]:
        """Customer ``index`` as the CRM exports it (an update on ``updated`` if given)."""
        rng = random.Random(self.spec.seed * 1_000_003 + index)
        country = self.country(index)
        pool = self.locales[country]
        first, last = rng.choice(pool.people)
        name = f"{last}{first}" if country == "CN" else f"{first} {last}"
        user = pool.users[rng.randrange(len(pool.users))]
        email = f"{user}{rng.randrange(100) if rng.random() < 0.5 else ''}@{rng.choice(pool.domains)}"
        if rng.random() < 0.05:
            email = email.capitalize() + " "  # typed by a clerk
        phone = rng.choice(pool.phones)
        if phone[-4:].isdigit():
            phone = phone[:-4] + f"{rng.randrange(10_000):04d}"
        tier = rng.choice(TIERS)
        points = rng.randrange(0, 5000) if tier != "none" else 0
        signup = self.first_day - timedelta(days=rng.randrange(0, 900))
        changed = datetime.combine(self.first_day, time(6), UTC)
        if updated is not None:
            tier = TIERS[min(len(TIERS) - 1, TIERS.index(tier) + 1)]
            points += 250
            changed = datetime.combine(updated, time(6), UTC) + timedelta(minutes=rng.randrange(600))
        return {
            "customer_id": f"C{index + 1:07d}",
            "full_name": name,
            "email": email,
            "phone": phone,
            "birth_year": rng.randrange(1940, 2008) if rng.random() < 0.93 else "",
            "country": country,
            "city": rng.choice(COUNTRIES[country]),
            "membership_tier": tier,
            "points": points,
            "signup_date": signup.isoformat() if rng.random() < 0.8 else signup.strftime("%Y/%m/%d"),
            "marketing_consent": rng.choice(("true", "false", "true", "yes", "no", "1", "0")),
            "updated_at": _iso(changed),
        }

    def handle(self, index: int) -> str:
        pool = self.locales[self.country(index)]
        return "@" + pool.users[(index * 2654435761) % len(pool.users)] + str(index % 97)

    def language(self, country: str, rng: random.Random) -> str:
        options = LANGUAGES[country]
        return rng.choices([lang for lang, _ in options], weights=[w for _, w in options])[0]


def _lines(order_id: str, rng: random.Random) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for k in range(rng.choice(_LINE_CHOICES)):
        shown = round(rng.lognormvariate(4.2, 0.8), 2)
        quantity = rng.choice((1, 1, 1, 2, 4))
        stock_promised = rng.random() < 0.95
        short = (not stock_promised and rng.random() < 0.6) or rng.random() < 0.03
        lines.append(
            {
                "line_id": f"L{order_id[1:]}{k}",
                "order_id": order_id,
                "product_id": f"P{rng.randrange(1, 800):05d}",
                "category": rng.choice(CATEGORIES),
                "quantity": quantity,
                "qty_fulfilled": quantity - (1 if short else 0),
                "stock_promised": "true" if stock_promised else "false",
                "shown_price": shown,
                "unit_price": shown if rng.random() < 0.97 else round(shown * 1.1, 2),
                "discount": round(shown * quantity * rng.choice((0.1, 0.15, 0.2)), 2) if rng.random() < 0.15 else 0,
            }
        )
    return lines


def _amount(line: dict[str, object]) -> float:
    return float(str(line["unit_price"])) * int(str(line["quantity"])) - float(str(line["discount"]))


class _Day:
    """Everything that happens on one day, written straight to the landing files."""

    def __init__(self, world: _World, day: date, emit: _Emitter) -> None:
        self.world = world
        self.day = day
        self.emit = emit
        self.rng = random.Random(f"{world.spec.seed}-{day.isoformat()}")

    def run(self) -> None:
        spec = self.world.spec
        mean = spec.orders_per_day
        count = max(0, round(self.rng.gauss(mean, max(3.0, math.sqrt(mean)))))
        stamp = self.day.strftime("%Y%m%d")
        for n in range(count):
            self.order(f"O{stamp}{n:06d}")
        for n in range(round(count * BUZZ_POSTS_PER_ORDER)):
            self.buzz(f"B{stamp}{n:06d}")

    def order(self, order_id: str) -> None:
        rng, world = self.rng, self.world
        index = rng.randrange(world.spec.customers)
        country = world.country(index)
        customer_id = f"C{index + 1:07d}"
        channel = rng.choices(CHANNELS, weights=(45, 30, 20, 5))[0]
        ordered = datetime.combine(self.day, time(0), UTC) + timedelta(seconds=rng.randrange(8 * 3600, 21 * 3600))
        home = channel != "store" or rng.random() < 0.3
        promised = (ordered + timedelta(days=rng.randrange(2, 8))).date() if home else None
        delay = rng.choices((-2, -1, 0, 1, 2, 3, 6), weights=(5, 10, 60, 10, 7, 5, 3))[0] if promised else 0
        cancelled = rng.random() < 0.03
        delivered = None
        if not cancelled:
            delivered = (
                datetime.combine(promised + timedelta(days=delay), time(0), UTC)
                + timedelta(minutes=rng.randrange(8 * 60, 20 * 60))
                if promised
                else ordered
            )
        lines = _lines(order_id, rng)
        guest = channel == "store" and rng.random() < 0.1
        order: dict[str, object] = {
            "order_id": order_id,
            "customer_id": "" if guest else customer_id,
            "channel": channel,
            "store_id": rng.choice(world.stores_by_country[country]) if channel == "store" or not home else "",
            "country": country if rng.random() < 0.97 else country.lower(),
            "city": rng.choice(COUNTRIES[country]),
            "ordered_at": _messy_ts(ordered, rng),
            "promised_date": promised.isoformat() if promised else "",
            "delivered_at": _iso(delivered),
            "status": "cancelled" if cancelled else "delivered",
            "order_total": round(max(0.0, sum(_amount(line) for line in lines)), 2),
            "currency": CURRENCY[country],
        }
        # sold or handed over by a store with its own point-of-sale system: that system's export
        part = POS_EXPORTS[country][0] if order["store_id"] and country in POS_EXPORTS else None
        if part is not None:
            order["city"] = LOCAL_CITY[str(order["city"])]
        for line in lines:
            self.emit("order_lines", line, part)
        self.emit("orders", order, part)
        if guest:
            return
        late = delay > 0 and not cancelled
        short = any(int(str(ln["qty_fulfilled"])) < int(str(ln["quantity"])) for ln in lines)
        overcharged = any(float(str(ln["unit_price"])) > float(str(ln["shown_price"])) for ln in lines)
        cause = self._cause(channel, late, short, overcharged, cancelled)
        language = world.language(country, rng)
        when = delivered or ordered
        if delivered is not None and rng.random() < 0.06:
            self._return(order_id, customer_id, channel, rng.choice(lines), delivered, language)
        if rng.random() < RESPONSE_RATE and not cancelled:
            penalty = (1.8 + 0.2 * min(delay, 6) if late else 0) + (1.0 if short else 0) + (0.8 if overcharged else 0)
            base = 4.4 - penalty - (1.0 if cause else 0) + (0.3 if delay < 0 else 0)
            touchpoint = (
                "delivery"
                if promised
                else {"store": "store_visit", "web": "web_shop", "app": "app"}.get(channel, "customer_service")
            )
            if cause == "website_app":
                touchpoint = "app" if channel == "app" else "web_shop"
            comment = ""
            if cause and rng.random() < 0.8:
                comment = texts.complaint(cause, language, rng)
            elif rng.random() < 0.5:
                comment = texts.praise(language, rng) if base >= 3.5 else ""
            if comment and rng.random() < 0.03:
                comment += "\n" + texts.neutral(language, rng)  # a multi-line comment
            self._response("R" + order_id[1:], customer_id, order_id, touchpoint, channel, when, base, comment)
        if cause and rng.random() < 0.7:
            self._ticket(order_id, index, cause, language, when)
        if rng.random() < ORDER_POST_RATE:
            mood = "complaint" if cause else "praise" if rng.random() < 0.6 else "neutral"
            text = (
                texts.complaint(cause, language, rng)
                if cause
                else texts.praise(language, rng)
                if mood == "praise"
                else texts.neutral(language, rng)
            )
            self._post("P" + order_id[1:], country, when, text, mood, index if rng.random() < 0.5 else None)

    def _cause(self, channel: str, late: bool, short: bool, overcharged: bool, cancelled: bool) -> str | None:
        rng = self.rng
        if late and rng.random() < 0.6:
            return "late_delivery"
        if short and rng.random() < 0.5:
            return "stock_out"
        if overcharged and rng.random() < 0.4:
            return "price_billing"
        if cancelled and rng.random() < 0.5:
            return rng.choice(("stock_out", "communication"))
        if rng.random() < 0.07:
            options = ["damaged", "missing_parts", "assembly", "product_quality", "communication"]
            options.append("staff" if channel == "store" else "website_app" if channel in ("web", "app") else "staff")
            return rng.choice(options)
        return None

    def _return(
        self, order_id: str, customer_id: str, channel: str, line: dict[str, object], delivered: datetime, lang: str
    ) -> None:
        rng = self.rng
        requested = delivered + timedelta(days=rng.randrange(1, 20), hours=rng.randrange(0, 10))
        roll = rng.random()
        refunded = requested + timedelta(days=rng.randrange(1, 25)) if roll < 0.85 else None
        status = "refunded" if refunded else "rejected" if roll > 0.95 else "requested"
        reason = rng.choice(("damaged", "changed_mind", "wrong_size", "late", "defective"))
        if rng.random() < 0.3:
            reason = texts.complaint(rng.choice(("damaged", "product_quality", "missing_parts")), lang, rng)
        self.emit(
            "returns",
            {
                "return_id": "X" + order_id[1:],
                "order_id": order_id,
                "line_id": line["line_id"],
                "customer_id": customer_id,
                "return_channel": "store" if channel != "store" and rng.random() < 0.5 else channel,
                "requested_at": _iso(requested),
                "refunded_at": _iso(refunded),
                "status": status,
                "reason": reason,
                "refund_amount": round(max(0.0, _amount(line)), 2) if status == "refunded" else "",
            },
        )
        slow = refunded is None or (refunded - requested).days > 14
        if rng.random() < 0.3:
            base = 2.0 if slow else 4.2
            comment = texts.complaint("returns_refunds", lang, rng) if slow else ""
            self._response("RX" + order_id[1:], customer_id, order_id, "returns", channel, requested, base, comment)

    def _response(
        self,
        response_id: str,
        customer_id: str,
        order_id: str,
        touchpoint: str,
        channel: str,
        after: datetime,
        base: float,
        comment: str,
    ) -> None:
        rng = self.rng
        csat = min(5, max(1, round(rng.gauss(base, 0.7))))
        nps = min(10, max(0, round(rng.gauss(csat * 2 - 0.5, 1.2))))
        ces = min(7, max(1, round(rng.gauss(csat + 1.5, 1))))
        self.emit(
            "responses",
            {
                "response_id": response_id,
                "customer_id": customer_id,
                "order_id": order_id,
                "touchpoint": touchpoint,
                "channel": channel if channel in CHANNELS else "web",
                "responded_at": _messy_ts(after + timedelta(hours=rng.randrange(2, 72)), rng),
                "csat": csat if rng.random() < 0.97 else "",
                "nps": nps,
                "ces": ces if rng.random() < 0.9 else "",
                "comment": comment,
            },
        )

    def _ticket(self, order_id: str, index: int, cause: str, language: str, after: datetime) -> None:
        rng = self.rng
        created = after + timedelta(hours=rng.randrange(1, 48))
        first = created + timedelta(minutes=rng.randrange(5, 2880))
        resolved = first + timedelta(hours=rng.randrange(1, 120)) if rng.random() < 0.85 else None
        reopens = rng.choices((0, 1, 2), weights=(75, 18, 7))[0]
        text = texts.complaint(cause, language, rng)
        if rng.random() < 0.03:
            who = self.world.customer(index)
            text += f" - call me on {who['phone']} or {str(who['email']).strip()}"
        ticket_channel = rng.choice(TICKET_CHANNELS)
        self.emit(
            "tickets",
            {
                "ticket_id": "T" + order_id[1:],
                "customer_id": f"C{index + 1:07d}",
                "order_id": order_id if rng.random() < 0.9 else None,
                "channel": ticket_channel,
                "created_at": _iso(created),
                "first_response_at": _iso(first),
                "resolved_at": _iso(resolved),
                "reopen_count": reopens,
                "text": text,
            },
        )
        if resolved is not None and rng.random() < 0.5:
            hours = (resolved - created).total_seconds() / 3600
            base = 4.3 - min(2.0, hours / 48) - 0.7 * reopens
            self._response(
                "RT" + order_id[1:],
                f"C{index + 1:07d}",
                order_id,
                "customer_service",
                "phone" if ticket_channel == "phone" else "web",
                resolved,
                base,
                "",
            )

    def _post(self, post_id: str, country: str, after: datetime, text: str, mood: str, index: int | None) -> None:
        rng = self.rng
        platform = rng.choice(PLATFORMS_BY_COUNTRY[country])
        review = platform == "trustpilot" or (platform == "facebook" and rng.random() < 0.3)
        rating = {"complaint": rng.choice((1, 1, 2)), "praise": rng.choice((4, 5, 5))}.get(mood, rng.choice((3, 4)))
        handle = (
            self.world.handle(index)
            if index is not None
            else "@" + rng.choice(self.world.locales[country].users) + str(rng.randrange(1000))
        )
        self.emit(
            "posts",
            {
                "post_id": post_id,
                "platform": platform,
                "kind": "review" if review else "post",
                "handle": handle,
                "customer_id": f"C{index + 1:07d}" if index is not None else None,
                "posted_at": _iso(after + timedelta(hours=rng.randrange(1, 96))),
                "text": text,
                "rating": rating if review else None,
            },
        )

    def buzz(self, post_id: str) -> None:
        """A post not tied to an order: general praise, chatter or a complaint."""
        rng = self.rng
        country = rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
        language = self.world.language(country, rng)
        roll = rng.random()
        if roll < 0.35:
            mood, text = "complaint", texts.complaint(rng.choice(texts.CAUSES), language, rng)
        elif roll < 0.7:
            mood, text = "praise", texts.praise(language, rng)
        else:
            mood, text = "neutral", texts.neutral(language, rng)
        self._post(post_id, country, datetime.combine(self.day, time(0), UTC), text, mood, None)


class _Emitter:
    """Routes rows to the landing files of their date; a few land one or two dates late."""

    def __init__(self, spec: DemoSpec, landing_dir: Path, dates: list[date]) -> None:
        self.spec = spec
        self.landing_dir = landing_dir
        self.dates = dates
        self.position = 0
        #: Only events of the last two days before a landing date can be held back for a later one.
        self.recent = False
        self.held: dict[int, list[tuple[str, dict[str, object]]]] = {}
        self.rng = random.Random(spec.seed + 1)
        self.sinks: dict[str, _Sink] = {}
        self.counts: dict[str, int] = {}

    def open(self, position: int) -> None:
        self.position = position
        day = self.dates[position].isoformat()
        rng = random.Random(f"{self.spec.seed}-files-{day}")
        self.sinks = {}
        for e in _ENTITIES:
            folder = self.landing_dir / e.source / day
            main = "utf-8-sig" if e.source == "sales" else "utf-8"  # sales exports carry a BOM
            self.sinks[e.name] = _Sink(folder / e.file_name, e, self.spec, rng, main)
            if e.name in POS_ENTITIES:
                for part, encoding in POS_EXPORTS.values():
                    path = folder / f"{e.file_stem}.{part}.{e.file_format}"  # an extra part, as ingest reads it
                    self.sinks[f"{e.name}.{part}"] = _Sink(path, e, self.spec, rng, encoding)
        for name, row in self.held.pop(position, []):
            self.sinks[name].write(row)

    def __call__(self, name: str, row: dict[str, object], part: str | None = None) -> None:
        """Write ``row`` to entity ``name``'s main file, or to its extra part ``part``."""
        late_ok = self.recent and name in ("responses", "tickets", "posts") and self.position + 1 < len(self.dates)
        if late_ok and self.rng.random() < self.spec.late_share:
            target = min(len(self.dates) - 1, self.position + self.rng.choice((1, 2)))
            self.held.setdefault(target, []).append((name, row))
            return
        self.sinks[name if part is None else f"{name}.{part}"].write(row)

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
            key = f"{sink.entity.source}/{sink.entity.name}"
            self.counts[key] = self.counts.get(key, 0) + sink.count


_ENTITIES = (ORDERS, ORDER_LINES, RETURNS, STORES, CUSTOMERS, TICKETS, RESPONSES, POSTS)


def _days(spec: DemoSpec) -> Iterator[tuple[date, list[date]]]:
    """Each landing date with the event days its files carry."""
    history = [spec.start - timedelta(days=d) for d in range(spec.history_days, -1, -1)]
    yield spec.start, history
    for offset in range(1, spec.days):
        day = spec.start + timedelta(days=offset)
        yield day, [day]


def generate(landing_dir: Path, spec: DemoSpec) -> dict[str, int]:
    """Write demo landing files; return the row count per ``source/entity``."""
    world = _World(spec)
    plan = list(_days(spec))
    emit = _Emitter(spec, landing_dir, [landing for landing, _ in plan])
    for position, (landing_date, event_days) in enumerate(plan):
        emit.open(position)
        if position == 0:
            for store in world.stores:
                emit.sinks["stores"].write(dict(store))
            for index in range(spec.customers):
                emit.sinks["customers"].write(world.customer(index))
        else:
            rng = random.Random(f"{spec.seed}-crm-{landing_date.isoformat()}")
            changed = sorted(rng.sample(range(spec.customers), k=min(spec.customers, max(1, spec.customers // 200))))
            for index in changed:
                emit.sinks["customers"].write(world.customer(index, updated=landing_date))
        for day in event_days:
            emit.recent = day >= landing_date - timedelta(days=1)
            _Day(world, day, emit).run()
        emit.close()
    return emit.counts
