"""Names, street addresses and disguised contact details in free text.

Customers write their own and other people's names and addresses into comments, and
disguise addresses to get past filters (``anna(at)gmail(dot)com``, ``0 7 0 1 2 3 4 5 6 7``).
No pattern tells every name from a word, so names are found by **cues** that hold in the
languages cxpipe meets, and a **gazetteer** of given names:

``name``
    * a title before a capitalised word: ``Mr Smith``, ``Frau Müller``, ``г-н Иванов``,
      ``Sra. Costa``, ``Mme Dubois``; a Chinese surname before 先生/女士/小姐 (``王先生``);
    * an introduction before capitalised words: ``my name is …``, ``меня зовут …``,
      ``ich heiße …``, ``jag heter …``, ``me llamo …``, ``je m'appelle …``, ``meu nome é …``,
      and in Chinese ``我叫``/``我的名字是``/``联系人``/``收件人``/``收货人``/``姓名`` before a
      Chinese surname and one or two characters;
    * a given name of the gazetteer followed by one or two more capitalised words (``Anna
      Svensson``, ``Иван Петрович Сидоров``). The gazetteer is the given names of the person
      providers that Faker ships for en, de, sv, ru, pt, es, fr and it (some 6,000 names);
      given names that are also everyday words (``Will``, ``May``, ``Bill``, ``Вера``) need a
      title or an introduction.
``address``
    a house number with a street word in the shape each language writes it: ``221B Baker
    Street``, ``Hauptstraße 5``, ``Storgatan 12``, ``ул. Ленина, д. 5, кв. 12``, ``Rua das
    Flores, 123``, ``Calle Mayor 5``, ``12 rue de la Paix``, ``建国路88号``.
``email`` and ``phone`` (disguised)
    ``at``/``dot`` words in brackets or spelled out before a known top-level domain, and a
    phone number written one digit at a time.

Known limits: a name without cue and not in the gazetteer (``Xochitl Quetzalli``) and a
lone given name (``ask Anna``) are kept; so is an address without a house number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

Span = tuple[int, int]

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽА-ЯЁ"
_LOWER = "a-zß-öø-ÿā-žа-яё"
#: A capitalised word (Latin or Cyrillic), hyphenated parts allowed: ``Anna``, ``Müller-Lüdenscheidt``.
_CAP = rf"[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}]?[{_LOWER}]+)*"
_CJK = "\u4e00-\u9fff"

#: Gazetteer given names that are everyday words: they count as names only after a title or an introduction.
_AMBIGUOUS = """
    will may mark bill grant joy faith hope rose max art hunter summer autumn dawn page chase miles june april
    august guy jack frank ray rich sandy crystal amber ruby pearl iris lily ivy violet holly heather jasmine
    daisy sky river star sunny young king major don sue pat gene van carol drew lane wade dean price rod penny
    bob paris london florence sydney victoria virginia georgia carolina dakota austin jordan india china asia
    brook brooke cliff clay dale glen grace melody harmony destiny precious justice honor mercy patience
    prince duke earl baron sterling golden silver forest stone wood woods hill hills field fields york
    ernst thor sonne liebe gott bert
    вера надежда любовь роман лев мир слава мая зоя
"""
AMBIGUOUS_GIVEN_NAMES = frozenset(_AMBIGUOUS.split())

#: Capitalised words that follow a given name in place, brand and shop names (``Beverly Hills``,
#: ``Victoria Station``), never as a surname.
_PLACE_WORDS = """
    hills hill street road avenue city town park beach bay valley lake mountain mountains island islands county
    state store stores shop shops service services support team center centre bank airport station mall market
    delivery express online app prime plus pro mini group company university college hospital hotel church
    square bridge river falls springs heights gardens terrace
"""
NOT_SURNAMES = frozenset(_PLACE_WORDS.split())

_CYRILLIC_TITLES = r"[Гг]осподин|[Гг]оспожа|[Гг]-н|[Гг]-жа|[Гг]р\."
_TITLES = (
    r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Madam|Herr|Frau|Hr|Fr|Fru|Fröken|Sr|Sra|Srta|Dona|Dom|Don|Mme|Mlle|Sig|"
    r"Sig\.ra|Signor|Signora|Senhor|Senhora|Señor|Señora|Monsieur|Madame|"
    rf"{_CYRILLIC_TITLES})"
)
TITLED = re.compile(rf"(?<![\w.]){_TITLES}\.?[ \u00a0]+(?P<name>{_CAP}(?:[ \u00a0]+{_CAP})?)")
#: Introductions that are followed by a name whatever it is.
INTRODUCED = re.compile(
    r"(?i:(?<!\w)(?:my name is|my name's|name:|ich heiße|ich heisse|mein name ist|jag heter|mitt namn är|"
    r"меня зовут|моё имя|мое имя|зовут меня|me llamo|mi nombre es|je m'appelle|je m’appelle|mon nom est|"
    r"meu nome é|me chamo|chamo-me|mi chiamo|il mio nome è)[:,]?[ \u00a0]+)"
    rf"(?P<name>{_CAP}(?:[ \u00a0]+{_CAP}){{0,2}})"
)
#: Candidates for given name + surname: two or three capitalised words in a row.
CAPITALISED_RUN = re.compile(rf"(?<![\w{_UPPER}{_LOWER}])(?P<first>{_CAP})(?P<rest>(?:[ \u00a0]+{_CAP}){{1,2}})")
_ZH_CUES = r"(?:我叫|我的名字是|联系人|收件人|收货人|姓名)"
#: The hundred most common Chinese surnames and the common two-character ones. Faker's longer list
#: holds characters that are mostly words (位, 都, 解), which would make 一位女士 a name.
ZH_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
) | frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "司徒"})

#: Street words and house numbers, per language (module docstring).
ADDRESS = re.compile(
    "|".join(
        (
            # en: 221B Baker Street, 10 Downing St, 1600 Pennsylvania Avenue NW, apt 4
            rf"(?<![\w/])\d{{1,5}}[A-Za-z]?[ \u00a0]+(?:{_CAP}[ \u00a0]+){{1,3}}"
            r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|"
            r"Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Grove|Mews)\b\.?"
            r"(?:[ \u00a0]+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
            r"(?:,?[ \u00a0]*(?i:apt|apartment|unit|flat|suite|ste)\.?[ \u00a0]*#?[\w-]+)?",
            # de / sv / nl: Hauptstraße 5, Berliner Str. 12a, Storgatan 12, Kungsvägen 3 B
            rf"(?<![\w])(?:{_CAP}[ \u00a0]+)?[{_UPPER}][{_LOWER}-]*"
            r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|"
            r"gatan|vägen|gränd|torget|backen|stigen|allén|plan|straat|laan|gracht)"
            r"[ \u00a0]+\d{1,4}(?:[ \u00a0]?[A-Za-z])?(?![\w])",
            rf"(?<![\w])(?:{_CAP}[ \u00a0]+)(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee)"
            r"[ \u00a0]+\d{1,4}[a-z]?(?![\w])",
            # ru: ул. Ленина, д. 5, кв. 12; проспект Мира 10; Невский пр-т, 28
            r"(?<![\w])(?i:ул\.|улица|пр-т|пр\.|проспект|пер\.|переулок|ш\.|шоссе|бул\.|бульвар|наб\.|набережная|"
            r"пл\.|площадь|мкр\.?|микрорайон)[ \u00a0]*"
            rf"(?:{_CAP}|\d{{1,2}}-?я?)(?:[ \u00a0]+{_CAP})?,?[ \u00a0]*(?i:д\.|дом)?[ \u00a0]*\d{{1,4}}[а-яА-Я]?"
            r"(?:[ \u00a0]*[,/]?[ \u00a0]*(?i:кв\.|квартира|корп\.|корпус|к\.|стр\.|строение)[ \u00a0]*\d{1,4})*",
            # pt / es / it / fr (street word first): Rua das Flores, 123; Av. Paulista 1000; Calle Mayor 5
            r"(?<![\w])(?:Rua|R\.|Avenida|Av\.|Travessa|Alameda|Estrada|Calle|C/|Paseo|Plaza|Carrer|Camino|"
            r"Via|Viale|Piazza|Corso|Largo)[ \u00a0]+"
            r"(?:(?:d[aeo]s?|de la|del|de|di|della|dello|dei)[ \u00a0]+)?"
            rf"(?:{_CAP}|\d{{1,2}})(?:[ \u00a0]+(?:(?:d[aeo]s?|de|del|di)[ \u00a0]+)?{_CAP}){{0,3}},?[ \u00a0]*"
            r"(?:n[º°o.]?[ \u00a0]*)?\d{1,5}[A-Za-z]?(?![\w])",
            # fr (number first): 12 rue de la Paix, 5 bis avenue Victor Hugo
            r"(?<![\w])\d{1,4}(?:[ \u00a0]?(?:bis|ter))?,?[ \u00a0]+"
            r"(?i:rue|avenue|av\.|boulevard|bd|allée|chemin|impasse|place|quai|cours|route)[ \u00a0]+"
            rf"(?:(?:de la|de l'|du|des|de|d')[ \u00a0]*)?{_CAP}(?:[ \u00a0]+{_CAP})?",
            # zh: 建国路88号, 中山北路100号3楼, 南京西路1266号
            rf"[{_CJK}]{{1,6}}(?:路|街|道|巷|弄|大道)\d{{1,5}}(?:号|號)(?:\d{{1,5}}(?:室|楼|樓|单元))?",
        )
    )
)

#: What the street patterns of ADDRESS need, in patterns Python's ``re`` scans quickly (each alternative starts
#: with a character set or a literal, none ignores case): a digit before a capital or a French street word (en,
#: fr), a street suffix's last letter before a house number (de, sv, nl), 路/街/道/巷/弄 before a number (zh),
#: pt/es/it street words; Russian street words in the lower-cased text. ADDRESS runs only where one is found.
_ADDRESS_CUE = re.compile(
    rf"\d[A-Za-z]?(?:[ \u00a0]?(?:bis|ter))?,?[ \u00a0]+[{_UPPER}rabcipq]"
    r"|[eßz.gmrndt][ \u00a0]+\d|[路街道巷弄]\d"
    r"|(?:Rua|R\.|Avenida|Av\.|Travessa|Alameda|Estrada|Calle|C/|Paseo|Plaza|Carrer|Camino|"
    r"Via|Viale|Piazza|Corso|Largo)[ \u00a0]"
)
_ADDRESS_CUE_LOWER = re.compile(
    r"ул\.|улица|пр-т|пр\.|проспект|пер\.|переулок|ш\.|шоссе|бул\.|бульвар|наб\.|набережная|"
    r"пл\.|площадь|мкр|микрорайон"
)


_TLDS = r"(?:com|net|org|info|biz|ru|de|se|cn|br|pt|es|fr|it|uk|co|io|me|eu|us|nl|no|dk|fi|pl|ua|by|kz)"
_AT = r"(?:[(\[{<][ \u00a0]*(?i:at|@|собака|ät|arroba|chez)[ \u00a0]*[)\]}>])"
_DOT = r"(?:[(\[{<][ \u00a0]*(?i:dot|punkt|точка|punto|ponto|point|\.)[ \u00a0]*[)\]}>])"
#: ``anna(at)gmail(dot)com``, ``anna [at] gmail.com``, ``anna at gmail dot com``, ``anna@gmail dot com``.
DISGUISED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+[ \u00a0]*{_AT}[ \u00a0]*[\w-]+(?:(?:[ \u00a0]*{_DOT}[ \u00a0]*|\.)[\w-]+)+"
    rf"|(?<![\w.+-])[\w.+-]+[ \u00a0]+(?i:at)[ \u00a0]+[\w-]+(?:[ \u00a0]+(?i:dot)[ \u00a0]+[\w-]+)*"
    rf"[ \u00a0]+(?i:dot)[ \u00a0]+(?i:{_TLDS})(?![\w])"
    rf"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:[ \u00a0]*(?:{_DOT}|(?i:dot))[ \u00a0]*[\w-]+)+"
)
#: What every disguised e-mail address has: ``@`` or an ``at`` word (looked for in the lower-cased text, first
#: as a quick pattern that also finds "that", then as the word).
_AT_QUICK = re.compile(r"@|(?:at|собака|ät|arroba|chez)(?!\w)")
_AT_WORD = re.compile(r"@|(?<!\w)(?:at|собака|ät|arroba|chez)(?!\w)")


def has_at_cue(text: str) -> bool:
    """Whether ``text`` has ``@`` or an ``at`` word (``at``, ``собака``, ``arroba``, ...), as disguised e-mails do."""
    lowered = text.lower()
    return bool(_AT_QUICK.search(lowered) and _AT_WORD.search(lowered))


#: A phone number written one digit at a time: eight to fifteen single digits split by one space, dot or dash.
SPELLED_PHONE = re.compile(r"(?<![\w.\-])(?:\+[ \u00a0]?)?\d(?:[ .\-]\d){7,14}(?![\w]|[.\-]\d)")


@lru_cache(maxsize=1)
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(given names in lower case from the person providers Faker ships, Chinese surnames)."""
    import importlib

    given: set[str] = set()
    for locale in ("en_US", "en_GB", "de_DE", "sv_SE", "ru_RU", "pt_BR", "pt_PT", "es_ES", "fr_FR", "it_IT"):
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given.update(name.lower() for name in getattr(provider, attr, ()) or () if " " not in name)
    return frozenset(given - AMBIGUOUS_GIVEN_NAMES), ZH_SURNAMES


#: What TITLED and INTRODUCED need (a title before a capital, an introduction) and a Chinese name needs (a cue
#: before or after it), as literals Python's ``re`` scans quickly (the introductions in the lower-cased text);
#: the full patterns run only where one is found.
_TITLE_CUE = re.compile(
    _TITLES.replace(_CYRILLIC_TITLES, "Господин|господин|Госпожа|госпожа|Г-н|г-н|Г-жа|г-жа|Гр\\.|гр\\.")
    + rf"\.?[ \u00a0]+[{_UPPER}]"
)
_INTRODUCTION_CUE = re.compile(
    r"my name is|my name's|name:|ich heiße|ich heisse|mein name ist|jag heter|mitt namn är|"
    r"меня зовут|моё имя|мое имя|зовут меня|me llamo|mi nombre es|je m'appelle|je m’appelle|mon nom est|"
    r"meu nome é|me chamo|chamo-me|mi chiamo|il mio nome è"
)
_ZH_CUE = re.compile(rf"{_ZH_CUES}|先生|女士|小姐")
#: A capitalised word: every name outside Chinese has one.
_CAPITALISED = re.compile(rf"[{_UPPER}][{_LOWER}]")
_ZH_INTRODUCED = re.compile(rf"{_ZH_CUES}[:：\s]*([{_CJK}]{{2,3}})")
_ZH_TITLED = re.compile(rf"([{_CJK}]{{1,3}})(?:先生|女士|小姐)")
_HAS_CJK = re.compile(f"[{_CJK}]")
_DIGIT = re.compile(r"\d")


def may_hold_a_name(text: str) -> bool:
    """Whether ``text`` has what :func:`find_names` needs to find anything: a capitalised word or a Chinese cue."""
    return bool(_CAPITALISED.search(text) or _ZH_CUE.search(text))


def _zh_names(text: str, surnames: frozenset[str]) -> Iterator[Span]:
    """Chinese names after a cue (``我叫``, ``收件人：``) or before 先生/女士/小姐; the surname must be known."""
    for m in _ZH_INTRODUCED.finditer(text):
        name = m.group(1)
        surname = name[:2] if name[:2] in surnames else name[:1]
        if surname in surnames and len(name) > len(surname):
            yield m.span(1)
    for m in _ZH_TITLED.finditer(text):
        candidate = m.group(1)
        for size in (2, 1):  # the surname just before the title: 王先生, 欧阳女士, 快递员李先生
            surname = candidate[-size:]
            if len(surname) == size and surname in surnames:
                yield (m.end(1) - size, m.end(1))
                break


def find_names(text: str) -> list[Span]:
    """Spans of personal names in ``text`` (module docstring)."""
    spans: list[Span] = []
    given, surnames = gazetteer()
    if _CAPITALISED.search(text):
        if _TITLE_CUE.search(text):
            spans += [m.span("name") for m in TITLED.finditer(text)]
        if _INTRODUCTION_CUE.search(text.lower()):
            spans += [m.span("name") for m in INTRODUCED.finditer(text)]
        for m in CAPITALISED_RUN.finditer(text):
            surname = m.group("rest").split()[0].lower()
            if m.group("first").lower() in given and surname not in NOT_SURNAMES:
                spans.append(m.span())
    if _ZH_CUE.search(text):
        spans += list(_zh_names(text, surnames))
    return _merge(spans)


#: Words that lead into a Chinese address and are not part of it (the street name has no spaces to end at).
_ZH_LEAD_IN = re.compile(r"^(?:地址是|地址|送到|寄到|发到|送往|寄往|住在|位于|放在|在|到|是|往)")


def find_addresses(text: str) -> list[Span]:
    if not _DIGIT.search(text):  # every address pattern has a house number
        return []
    if not (_ADDRESS_CUE.search(text) or _ADDRESS_CUE_LOWER.search(text.lower())):
        return []
    spans = []
    for m in ADDRESS.finditer(text):
        start = m.start() + (len(lead.group()) if (lead := _ZH_LEAD_IN.match(m.group())) else 0)
        spans.append((start, m.end()))
    return _merge(spans)


def find_disguised_contacts(text: str) -> list[tuple[str, Span]]:
    """Disguised e-mail addresses and phone numbers written digit by digit, as ``(kind, span)``."""
    found = [("email", m.span()) for m in DISGUISED_EMAIL.finditer(text)] if has_at_cue(text) else []
    if sum(map(str.isdigit, text)) >= 8:
        found += [("phone", m.span()) for m in SPELLED_PHONE.finditer(text)]
    return [
        (kind, span)
        for kind, span in found
        if not any(_overlap(span, o) for k, o in found if o != span and o[0] < span[0])
    ]


def _overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans joined, in text order."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# The cues above by public names: cxpipe.privacy builds its column-wide candidate test from them
# (may_hold_contact_details), so the two cannot drift apart.
UPPER, LOWER, CAP = _UPPER, _LOWER, _CAP
ADDRESS_CUE, ADDRESS_CUE_LOWER = _ADDRESS_CUE, _ADDRESS_CUE_LOWER
TITLE_CUE, INTRODUCTION_CUE, ZH_CUE = _TITLE_CUE, _INTRODUCTION_CUE, _ZH_CUE
