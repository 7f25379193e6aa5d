"""Deterministic demo data for all four sources, written as landing files.

The first landing date carries an initial export with ``history_days`` of
history; each later date carries that day's new records, as source systems drop
them. What happens drives how customers answer: a late delivery lowers CSAT and
NPS and makes a complaint likely, so the marts have something true to find.
A small share of rows is deliberately broken (out-of-range scores, negative
amounts) so that quarantine is exercised on every run.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

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
    TICKETS,
    Entity,
)

COUNTRIES = {
    "SE": ["Stockholm", "Malmo", "Gothenburg"],
    "DE": ["Berlin", "Hamburg", "Munich"],
    "GB": ["London", "Leeds", "Bristol"],
    "CN": ["Shanghai", "Beijing", "Shenzhen"],
    "RU": ["Moscow", "Kazan", "Saint Petersburg"],
}
CURRENCY = {"SE": "SEK", "DE": "EUR", "GB": "GBP", "CN": "CNY", "RU": "RUB"}
LANGUAGE = {"SE": "en", "DE": "de", "GB": "en", "CN": "zh", "RU": "ru"}
FIRST = ["Anna", "Erik", "Li", "Olga", "James", "Mia", "Wei", "Ivan", "Sofia", "Lukas"]
LAST = ["Svensson", "Muller", "Wang", "Ivanova", "Smith", "Berg", "Chen", "Petrov", "Brown", "Koch"]

# Complaint texts by root cause and language: what customers actually write.
COMPLAINTS: dict[str, dict[str, list[str]]] = {
    "late_delivery": {
        "en": ["my delivery is late again, promised tuesday still nothing", "order never arrived on time"],
        "de": ["Lieferung kommt zu spät, schon eine Woche Verspätung"],
        "zh": ["快递太慢了，说好的送货时间又延迟了", "送货延迟三天"],
        "ru": ["доставка опоздала на неделю", "заказ так и не привезли вовремя, задержка"],
    },
    "damaged": {
        "en": ["the table arrived damaged, scratched top", "box was broken and the glass cracked"],
        "de": ["Der Schrank kam beschädigt an"],
        "zh": ["收到的桌子是坏的，有划痕", "玻璃碎了，包装破损"],
        "ru": ["шкаф привезли поврежденный, царапины", "стекло разбито"],
    },
    "missing_parts": {
        "en": ["missing screws in the package, cant finish", "parts missing from the wardrobe kit"],
        "de": ["Es fehlen Schrauben im Paket"],
        "zh": ["少了螺丝，缺少零件", "配件缺失"],
        "ru": ["не хватает винтов в коробке", "недостает деталей"],
    },
    "stock_out": {
        "en": ["website said in stock but the store was out of stock", "item sold out after I paid"],
        "de": ["Artikel war nicht vorrätig obwohl online verfügbar"],
        "zh": ["网上显示有货，到店缺货", "付款后说没货了"],
        "ru": ["товара нет в наличии, хотя на сайте был", "нет в наличии после оплаты"],
    },
    "price_billing": {
        "en": ["charged twice for the same order", "price at checkout was higher than shown, overcharged"],
        "de": ["Mir wurde der falsche Preis berechnet"],
        "zh": ["重复扣款，价格不对", "结账价格比标价高"],
        "ru": ["списали деньги дважды", "цена при оплате выше, чем на ценнике"],
    },
    "staff": {
        "en": ["staff at the store were rude and unhelpful", "the employee was rude to me"],
        "de": ["Das Personal war unfreundlich"],
        "zh": ["店员态度很差", "服务员不耐烦"],
        "ru": ["грубый персонал в магазине", "продавец нахамил"],
    },
}
PRAISE = {
    "en": ["great service, delivery was early!", "love my new sofa, easy assembly", "quick and friendly help"],
    "de": ["Super Service, schnelle Lieferung"],
    "zh": ["服务很好，送货很快", "非常满意"],
    "ru": ["отличный сервис, быстрая доставка", "все понравилось"],
}


@dataclass(frozen=True)
class DemoSpec:
    start: date
    days: int = 1
    history_days: int = 120
    customers: int = 400
    orders_per_day: float = 25.0
    seed: int = 42
    bad_row_share: float = 0.01


def _ts(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(0, 0), UTC) + timedelta(seconds=rng.randrange(8 * 3600, 21 * 3600))


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _write(path: Path, entity: Entity, rows: Iterable[dict[str, object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        if entity.file_format == "csv":
            writer = csv.DictWriter(fh, fieldnames=entity.column_names)
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                count += 1
        else:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    return count


class _World:
    """Customers and their history, drawn once from the seed."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        first_day = spec.start - timedelta(days=spec.history_days)
        self.customers = []
        for i in range(spec.customers):
            country = self.rng.choice(list(COUNTRIES))
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            self.customers.append(
                {
                    "customer_id": f"C{i + 1:06d}",
                    "full_name": f"{first} {last}",
                    "email": f"{first}.{last}{i}@example.com".lower(),
                    "phone": f"+{self.rng.randrange(10, 99)} {self.rng.randrange(10**8, 10**9)}",
                    "birth_year": self.rng.randrange(1945, 2006),
                    "country": country,
                    "city": self.rng.choice(COUNTRIES[country]),
                    "membership_tier": self.rng.choice(("none", "member", "member", "silver", "gold")),
                    "points": self.rng.randrange(0, 5000),
                    "signup_date": (first_day - timedelta(days=self.rng.randrange(0, 900))).isoformat(),
                    "marketing_consent": self.rng.choice(("true", "false")),
                    "updated_at": _iso(datetime.combine(first_day, time(6), UTC)),
                }
            )
        self.stores: list[dict[str, object]] = [
            {
                "store_id": f"S{n:03d}",
                "store_name": f"{city} {n}",
                "country": country,
                "city": city,
                "opened_date": (first_day - timedelta(days=365 * (1 + n % 7))).isoformat(),
            }
            for n, (country, city) in enumerate(
                ((country, city) for country, cities in COUNTRIES.items() for city in cities), start=1
            )
        ]
        self.stores_by_country: dict[str, list[str]] = {}
        for store in self.stores:
            self.stores_by_country.setdefault(str(store["country"]), []).append(str(store["store_id"]))

    def events_on(self, day: date) -> dict[str, list[dict[str, object]]]:
        """Orders, surveys, tickets and posts that happen on ``day``."""
        rng = random.Random(f"{self.spec.seed}-{day.isoformat()}")
        out: dict[str, list[dict[str, object]]] = {name: [] for name in _EVENT_ENTITIES}
        for n in range(int(rng.gauss(self.spec.orders_per_day, 3))):
            cust = rng.choice(self.customers)
            country = str(cust["country"])
            channel = rng.choices(CHANNELS, weights=(45, 30, 20, 5))[0]
            ordered = _ts(day, rng)
            delivered_home = channel != "store" or rng.random() < 0.3
            promised = (ordered + timedelta(days=rng.randrange(2, 8))).date() if delivered_home else None
            delay = rng.choices((-2, -1, 0, 0, 0, 1, 3, 6), k=1)[0] if promised else 0
            delivered = datetime.combine(promised + timedelta(days=delay), time(14), UTC) if promised else ordered
            order_id = f"O{day.strftime('%Y%m%d')}{n:05d}"
            lines = self._lines(order_id, rng)
            total = round(sum(_amount(line) for line in lines), 2)
            out["order_lines"].extend(lines)
            if rng.random() < 0.06:
                line = rng.choice(lines)
                requested = delivered + timedelta(days=rng.randrange(1, 20))
                refunded = requested + timedelta(days=rng.randrange(1, 25)) if rng.random() < 0.9 else None
                out["returns"].append(
                    {
                        "return_id": f"X{order_id[1:]}",
                        "order_id": order_id,
                        "line_id": line["line_id"],
                        "customer_id": cust["customer_id"],
                        "return_channel": "store" if rng.random() < 0.5 else channel,
                        "requested_at": _iso(requested),
                        "refunded_at": _iso(refunded),
                        "status": "refunded" if refunded else "requested",
                        "reason": rng.choice(("damaged", "changed_mind", "wrong_size", "late")),
                        "refund_amount": round(_amount(line), 2),
                    }
                )
            out["orders"].append(
                {
                    "order_id": order_id,
                    "customer_id": cust["customer_id"],
                    "channel": channel,
                    "store_id": rng.choice(self.stores_by_country[country]),
                    "country": country,
                    "city": cust["city"],
                    "ordered_at": _iso(ordered),
                    "promised_date": promised.isoformat() if promised else "",
                    "delivered_at": _iso(delivered),
                    "status": "delivered",
                    "order_total": total,
                    "currency": CURRENCY[country],
                }
            )
            late = delay > 0
            lang = LANGUAGE[country]
            cause = "late_delivery" if late and rng.random() < 0.6 else None
            if cause is None and rng.random() < 0.08:
                cause = rng.choice([c for c in COMPLAINTS if c != "late_delivery"])
            if rng.random() < 0.5:
                base = 4.3 - (1.8 if late else 0) - (1.2 if cause else 0)
                csat = min(5, max(1, round(rng.gauss(base, 0.7))))
                nps = min(10, max(0, round(rng.gauss(csat * 2 - 0.5, 1.2))))
                ces = min(7, max(1, round(rng.gauss(csat + 1.5, 1))))
                comment = rng.choice(COMPLAINTS[cause][lang]) if cause else rng.choice(PRAISE[lang] + [""])
                out["responses"].append(
                    {
                        "response_id": f"R{order_id[1:]}",
                        "customer_id": cust["customer_id"],
                        "order_id": order_id,
                        "touchpoint": "delivery" if promised else "store_visit",
                        "channel": channel,
                        "responded_at": _iso((delivered or ordered) + timedelta(hours=rng.randrange(2, 72))),
                        "csat": csat,
                        "nps": nps,
                        "ces": ces,
                        "comment": comment,
                    }
                )
            if cause and rng.random() < 0.7:
                created = (delivered or ordered) + timedelta(hours=rng.randrange(1, 48))
                first_resp = created + timedelta(minutes=rng.randrange(5, 2880))
                resolved = first_resp + timedelta(hours=rng.randrange(1, 120)) if rng.random() < 0.85 else None
                out["tickets"].append(
                    {
                        "ticket_id": f"T{order_id[1:]}",
                        "customer_id": cust["customer_id"],
                        "order_id": order_id,
                        "channel": rng.choice(("phone", "email", "chat", "store", "social")),
                        "created_at": _iso(created),
                        "first_response_at": _iso(first_resp),
                        "resolved_at": _iso(resolved),
                        "reopen_count": rng.choices((0, 0, 0, 1, 2))[0],
                        "text": rng.choice(COMPLAINTS[cause][lang]),
                    }
                )
            if rng.random() < 0.25:
                text = rng.choice(COMPLAINTS[cause][lang]) if cause else rng.choice(PRAISE[lang])
                platform = {"CN": "weibo", "RU": "vk"}.get(country, rng.choice(("twitter", "trustpilot")))
                out["posts"].append(
                    {
                        "post_id": f"P{order_id[1:]}",
                        "platform": platform,
                        "kind": "review" if platform == "trustpilot" else "post",
                        "handle": "@" + str(cust["email"]).split("@")[0].replace(".", "_"),
                        "customer_id": cust["customer_id"] if rng.random() < 0.4 else None,
                        "posted_at": _iso((delivered or ordered) + timedelta(hours=rng.randrange(1, 96))),
                        "text": text,
                        "rating": (1 if cause else 5) if platform == "trustpilot" else None,
                    }
                )
        return out

    def _lines(self, order_id: str, rng: random.Random) -> list[dict[str, object]]:
        lines: list[dict[str, object]] = []
        for k in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            shown = round(rng.lognormvariate(4.2, 0.8), 2)
            quantity = rng.choice((1, 1, 1, 2, 4))
            stock_promised = rng.random() < 0.95
            lines.append(
                {
                    "line_id": f"L{order_id[1:]}{k}",
                    "order_id": order_id,
                    "product_id": f"P{rng.randrange(1, 400):05d}",
                    "category": rng.choice(CATEGORIES),
                    "quantity": quantity,
                    "qty_fulfilled": quantity if stock_promised and rng.random() < 0.97 else quantity - 1,
                    "stock_promised": "true" if stock_promised else "false",
                    "shown_price": shown,
                    "unit_price": shown if rng.random() < 0.97 else round(shown * 1.1, 2),
                    "discount": round(shown * 0.1, 2) if rng.random() < 0.15 else 0,
                }
            )
        return lines


def _amount(line: dict[str, object]) -> float:
    return float(str(line["unit_price"])) * int(str(line["quantity"]))


_EVENT_ENTITIES = ("orders", "order_lines", "returns", "responses", "tickets", "posts")


def _break_some(rows: list[dict[str, object]], entity: Entity, share: float, rng: random.Random) -> None:
    """Corrupt a few rows the way real exports do (out-of-range numbers)."""
    numeric = [c for c in entity.columns if c.minimum is not None or c.maximum is not None]
    if not numeric:
        return
    for row in rows:
        if rng.random() < share:
            col = rng.choice(numeric)
            row[col.name] = (col.maximum or 0) + 1 if col.maximum is not None else -1


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
    counts: dict[str, int] = {}
    rng = random.Random(spec.seed + 1)
    for landing_date, event_days in _days(spec):
        batch: dict[str, list[dict[str, object]]] = {name: [] for name in _EVENT_ENTITIES}
        for day in event_days:
            for name, rows in world.events_on(day).items():
                batch[name].extend(rows)
        first = landing_date == spec.start
        customers = world.customers if first else []
        for entity, rows in (
            (ORDERS, batch["orders"]),
            (ORDER_LINES, batch["order_lines"]),
            (RETURNS, batch["returns"]),
            (STORES, [dict(s) for s in world.stores] if first else []),
            (CUSTOMERS, [dict(c) for c in customers]),
            (TICKETS, batch["tickets"]),
            (RESPONSES, batch["responses"]),
            (POSTS, batch["posts"]),
        ):
            _break_some(rows, entity, spec.bad_row_share, rng)
            path = landing_dir / entity.source / landing_date.isoformat() / entity.file_name
            key = f"{entity.source}/{entity.name}"
            counts[key] = counts.get(key, 0) + _write(path, entity, rows)
    return counts
