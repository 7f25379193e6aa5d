"""What customers write, by root cause and language, for the demo generator.

Each cause has phrasings in English, German, Swedish, Chinese and Russian, some
mixing languages or slang the way people do. :func:`compose` adds an opener, a
closer, emoji and typos, so the same complaint rarely reads the same twice, while
the words that carry the cause stay recognisable.
"""

from __future__ import annotations

import random

from cxpipe.contracts import ROOT_CAUSES

LANGUAGES = ("en", "de", "sv", "zh", "ru")

#: The root causes the texts carry (the complaint classifier's target classes).
CAUSES = tuple(cause for cause in ROOT_CAUSES if cause != "other")

COMPLAINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "late_delivery": {
        "en": (
            "my delivery is late again, promised tuesday and still nothing",
            "order never arrived on the promised date",
            "delivery delayed for the 3rd time, waited home all day for nothing",
            "still waiting for my sofa, it was due last week",
            "courier didnt show up, parcel is days late",
        ),
        "de": (
            "Lieferung kommt zu spät, schon eine Woche Verspätung",
            "Liefertermin wieder verschoben, ich warte immer noch",
            "Paket ist immer noch nicht da, total verspätet",
            "die Lieferung war mega late, echt jetzt",
        ),
        "sv": (
            "leveransen är försenad igen, lovat i tisdags",
            "väntar fortfarande på min beställning, en vecka sen",
            "budet kom aldrig, leveransen är sen",
            "försenad leverans, super disappointed",
        ),
        "zh": (
            "快递太慢了，说好的送货时间又延迟了",
            "送货延迟三天，一直没人通知",
            "等了一个星期还没到货，物流太慢",
            "delivery又晚了，说好周二送到",
        ),
        "ru": (
            "доставка опоздала на неделю",
            "заказ так и не привезли вовремя, задержка",
            "курьер не приехал, доставку перенесли уже второй раз",
            "жду доставку уже 10 дней, delivery просто ужас",
        ),
    },
    "damaged": {
        "en": (
            "the table arrived damaged, scratched top",
            "box was broken and the glass cracked",
            "wardrobe door came dented, looks like it was dropped",
            "mirror arrived smashed to pieces",
        ),
        "de": (
            "Der Schrank kam beschädigt an",
            "Glasplatte war bei Lieferung zerbrochen",
            "Tischplatte zerkratzt und eine Ecke kaputt",
        ),
        "sv": (
            "bordet kom skadat, repor över hela skivan",
            "glaset var trasigt när paketet kom",
            "skåpet levererades med en buckla, helt förstört",
        ),
        "zh": ("收到的桌子是坏的，有划痕", "玻璃碎了，包装破损", "柜门到货就是坏的，明显摔过"),
        "ru": ("шкаф привезли поврежденный, царапины", "стекло разбито", "стол пришел со сколами и вмятиной"),
    },
    "missing_parts": {
        "en": (
            "missing screws in the package, cant finish",
            "parts missing from the wardrobe kit",
            "two legs missing from the box, seriously??",
            "no hardware bag in the box, half the parts are not there",
        ),
        "de": ("Es fehlen Schrauben im Paket", "Teile fehlen, Montage unmöglich", "ein Bein fehlt im Karton"),
        "sv": ("det saknas skruvar i paketet", "delar saknas i lådan", "ett ben saknades, kan inte bygga klart"),
        "zh": ("少了螺丝，缺少零件", "配件缺失", "包裹里少了两个桌腿"),
        "ru": ("не хватает винтов в коробке", "недостает деталей", "в комплекте нет ножек, собрать нельзя"),
    },
    "assembly": {
        "en": (
            "assembly instructions are impossible to follow",
            "took 6 hours to assemble, holes dont line up",
            "the assembly service never came to put it together",
        ),
        "de": ("Aufbauanleitung ist unverständlich", "Montage dauerte ewig, Löcher passen nicht"),
        "sv": ("monteringsanvisningen går inte att förstå", "hålen passar inte, monteringen tog hela dagen"),
        "zh": ("安装说明书看不懂", "组装了六个小时，孔位对不上", "预约的安装师傅没来"),
        "ru": ("инструкция по сборке непонятная", "собирали весь день, отверстия не совпадают"),
    },
    "stock_out": {
        "en": (
            "website said in stock but the store was out of stock",
            "item sold out after I paid",
            "they cancelled half my order because it's out of stock",
            "showed available online, nothing on the shelf",
        ),
        "de": ("Artikel war nicht vorrätig obwohl online verfügbar", "nach der Bestellung ausverkauft"),
        "sv": ("stod i lager på sajten men slut i butiken", "slutsåld efter att jag betalat"),
        "zh": ("网上显示有货，到店缺货", "付款后说没货了", "下单后才说缺货，白等"),
        "ru": ("товара нет в наличии, хотя на сайте был", "нет в наличии после оплаты", "на складе нет, заказ урезали"),
    },
    "price_billing": {
        "en": (
            "charged twice for the same order",
            "price at checkout was higher than shown, overcharged",
            "the discount code wasnt applied, want my money back",
            "invoice shows the wrong amount",
        ),
        "de": ("Mir wurde der falsche Preis berechnet", "doppelt abgebucht", "Rabatt wurde nicht abgezogen"),
        "sv": ("dubbeldebiterad för samma order", "fel pris på kvittot, dyrare än på hyllan"),
        "zh": ("重复扣款，价格不对", "结账价格比标价高", "优惠券没有用上，多收钱了"),
        "ru": ("списали деньги дважды", "цена при оплате выше, чем на ценнике", "скидку не применили"),
    },
    "staff": {
        "en": (
            "staff at the store were rude and unhelpful",
            "the employee was rude to me",
            "nobody at the counter wanted to help, just ignored me",
        ),
        "de": ("Das Personal war unfreundlich", "Mitarbeiter total unhöflich und genervt"),
        "sv": ("personalen var otrevlig", "ingen i butiken ville hjälpa till, sjukt oproffsigt"),
        "zh": ("店员态度很差", "服务员不耐烦", "工作人员爱答不理"),
        "ru": ("грубый персонал в магазине", "продавец нахамил", "сотрудники игнорируют покупателей"),
    },
    "returns_refunds": {
        "en": (
            "returned it 3 weeks ago and still no refund",
            "store refused my return even with the receipt",
            "where is my refund?? returned online, nothing",
        ),
        "de": ("Rückgabe vor drei Wochen, immer noch keine Erstattung", "Umtausch im Laden abgelehnt"),
        "sv": ("returnerade för tre veckor sen, fortfarande ingen återbetalning", "butiken vägrade ta emot returen"),
        "zh": ("退货三周了还没退款", "门店拒绝退货", "退款一直不到账"),
        "ru": ("вернул товар три недели назад, деньги так и не вернули", "в магазине отказали в возврате"),
    },
    "website_app": {
        "en": (
            "the app keeps crashing at checkout",
            "website wont let me log in, payment page error",
            "app froze and my cart is gone",
        ),
        "de": ("Die App stürzt beim Bezahlen ab", "Webseite lädt nicht, Fehler beim Login"),
        "sv": ("appen kraschar vid kassan", "hemsidan funkar inte, kan inte logga in"),
        "zh": ("app一直闪退，付款失败", "网站登录不了，页面报错"),
        "ru": ("приложение вылетает при оплате", "сайт не работает, ошибка при входе"),
    },
    "product_quality": {
        "en": (
            "chair broke after two weeks, poor quality",
            "fabric pilling already, cheap material",
            "the drawer fell apart, such low quality",
        ),
        "de": ("Qualität ist schlecht, Stuhl nach zwei Wochen kaputt", "billiges Material, Stoff fusselt"),
        "sv": ("dålig kvalitet, stolen gick sönder efter två veckor", "billigt material, tyget nopprar"),
        "zh": ("质量太差，椅子两周就坏了", "材料很廉价，抽屉散架了"),
        "ru": ("качество ужасное, стул сломался через две недели", "дешевый материал, ткань катышками"),
    },
    "communication": {
        "en": (
            "nobody answers the phone, no reply to my emails",
            "no updates at all about my order",
            "customer service promised a call back, never happened",
        ),
        "de": ("Niemand antwortet auf meine E-Mails", "keine Info zum Status der Bestellung"),
        "sv": ("ingen svarar i telefon eller på mejl", "fick aldrig någon uppdatering om ordern"),
        "zh": ("客服电话打不通，邮件也没人回", "订单状态一直没有更新"),
        "ru": ("никто не отвечает на звонки и письма", "обещали перезвонить и не перезвонили"),
    },
}

PRAISE: dict[str, tuple[str, ...]] = {
    "en": (
        "great service, delivery was early!",
        "love my new sofa, easy assembly",
        "quick and friendly help in store",
        "super happy with the bed, arrived on time",
        "best customer service ever tbh",
    ),
    "de": ("Super Service, schnelle Lieferung", "Alles bestens, gerne wieder", "Sehr freundliche Beratung"),
    "sv": ("jättebra service, snabb leverans", "supernöjd med soffan", "trevlig personal, rekommenderas"),
    "zh": ("服务很好，送货很快", "非常满意", "质量不错，安装也很简单"),
    "ru": ("отличный сервис, быстрая доставка", "все понравилось", "очень доволен покупкой"),
}

NEUTRAL: dict[str, tuple[str, ...]] = {
    "en": ("picked up my order today", "anyone tried the new kitchen range?", "store opens at 10 on sundays"),
    "de": ("Heute die Bestellung abgeholt", "Hat jemand das neue Regal schon?"),
    "sv": ("hämtade ut ordern idag", "någon som testat nya hyllan?"),
    "zh": ("今天去店里取货了", "有人买过新款书架吗"),
    "ru": ("сегодня забрал заказ", "кто-нибудь брал новый стеллаж?"),
}

_OPENERS = {
    "en": ("", "", "ugh ", "seriously, ", "hi, ", "@cxstore ", "smh "),
    "de": ("", "", "Hallo, ", "Ehrlich, ", "@cxstore "),
    "sv": ("", "", "hej, ", "allvarligt, ", "@cxstore "),
    "zh": ("", "", "无语了，", "客服你好，", "@cxstore "),
    "ru": ("", "", "здравствуйте, ", "серьезно, ", "@cxstore "),
}
_CLOSERS = {
    "en": ("", "", ".", "!!", " #fail", " never again", " pls fix", " 😡"),
    "de": ("", "", ".", "!!", " nie wieder", " 😤"),
    "sv": ("", "", ".", "!!", " aldrig igen", " 😤"),
    "zh": ("", "", "。", "！！", "，差评", "😡"),
    "ru": ("", "", ".", "!!", " больше не закажу", " 😡"),
}
_HAPPY_CLOSERS = {
    "en": ("", "", "!", " 😊", " thx", " 10/10"),
    "de": ("", "!", " 😊", " danke"),
    "sv": ("", "!", " 😊", " tack"),
    "zh": ("", "！", "👍", "，好评"),
    "ru": ("", "!", " 😊", " спасибо"),
}


def typo(text: str, rng: random.Random) -> str:
    """One typing slip: swapped, dropped or doubled letter (Latin and Cyrillic text)."""
    spots = [i for i in range(1, len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _dress(core: str, language: str, closers: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    text = rng.choice(_OPENERS[language]) + core + rng.choice(closers[language])
    if language != "zh":
        if rng.random() < 0.25:
            text = typo(text, rng)
        if rng.random() < 0.3:
            text = text.lower()
    return text


def complaint(cause: str, language: str, rng: random.Random) -> str:
    """A complaint about ``cause`` as a customer would write it."""
    return _dress(rng.choice(COMPLAINTS[cause][language]), language, _CLOSERS, rng)


def praise(language: str, rng: random.Random) -> str:
    return _dress(rng.choice(PRAISE[language]), language, _HAPPY_CLOSERS, rng)


def neutral(language: str, rng: random.Random) -> str:
    return rng.choice(NEUTRAL[language])
