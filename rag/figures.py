"""Figures with their units: « 44 heures par semaine », « 5 % », « cinq premières années ».

A figure check that compares bare numbers passes « 5 % … (art. 53) » because art. 53 says « les
cinq premières années »; and « 2288 heures par semaine » because 2288 is in art. 184 (per year).
Here every number is read with the unit that follows it (and the period of a rate: par semaine,
par an…), number words are turned into digits with ``text2num`` (French, English), and two
figures agree only when value, unit family and period agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lexical import normalise

# unit family → words (normalised: lower case, no accents, Arabic letter variants unified)
UNIT_WORDS = {
    "percent": ["%", "٪", "pour cent", "pourcent", "pour 100", "percent", "per cent", "في المائه", "في المئه", "بالمائه", "بالمئه"],
    "hours": ["heures", "heure", "h", "hours", "hour", "hrs", "ساعه", "ساعات"],
    "minutes": ["minutes", "minute", "min", "mn", "دقيقه", "دقائق"],
    "days": ["jours", "jour", "journees", "journee", "days", "day", "يوما", "يوم", "ايام"],
    "weeks": ["semaines", "semaine", "weeks", "week", "اسبوعا", "اسبوع", "اسابيع"],
    "months": ["mois", "months", "month", "شهرا", "شهر", "اشهر", "شهور"],
    "years": ["annees", "annee", "ans", "an", "years", "year", "سنه", "سنوات", "سنين", "سنتين"],
    "mad": ["dirhams", "dirham", "dhs", "dh", "mad", "درهما", "درهم", "دراهم"],
    "persons": ["salaries", "salarie", "employees", "employee", "workers", "worker", "personnes", "travailleurs",
                "delegues", "delegue", "representatives", "representants", "اجيرا", "اجير", "اجراء", "مندوبين", "مندوبا"],
}
PERIOD_WORDS = {
    "day": ["par jour", "sur la journee", "per day", "a day", "في اليوم", "يوميا", "اليومي", "اليوميه", "يومي", "يوميه", "journaliere", "quotidienne", "daily"],
    "week": ["par semaine", "sur la semaine", "per week", "a week", "in a week", "في الاسبوع", "اسبوعيا", "الاسبوعي", "الاسبوعيه", "اسبوعي", "اسبوعيه", "hebdomadaire", "hebdomadaires", "weekly"],
    "month": ["par mois", "per month", "a month", "في الشهر", "شهريا", "الشهري", "الشهريه", "شهري", "شهريه", "mensuel", "mensuelle", "monthly"],
    "year": ["par an", "par annee", "sur l'annee", "sur l'an", "per year", "a year", "in a year", "في السنه", "سنويا", "السنوي", "السنويه", "سنوي", "سنويه", "annuel", "annuelle", "annuels", "annuelles", "annually", "yearly"],
}
_UNIT = sorted(((w, fam) for fam, words in UNIT_WORDS.items() for w in words), key=lambda p: -len(p[0]))
_PERIOD = sorted(((w, p) for p, words in PERIOD_WORDS.items() for w in words), key=lambda p: -len(p[0]))
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ \u202f\xa0.]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)(?![\d])")
# an hour of the day with its minutes: « 21:00 », « 6:30 », « 21h30 », « 22 h 30 »
CLOCK_TIME = re.compile(r"(?<![\w.,:])([01]?\d|2[0-4]) ?(?::|h) ?([0-5]\d)(?![\d:])")
ORDINAL_SUFFIX = re.compile(r"^(?:er|ere|eres|e|eme|es|nd|st|rd|th)\b")
# a number right after these words names a text or a part of it: a reference, not a figure
_REFERENCE_WORDS = (  # whole words only: « Maroc 12 jours » and « emploi 3 mois » are figures
    r"(?<!\w)(?:art(?:icle)?s?\.?|clauses?|alineas?|paragraphes?|§|chapitres?|titres?|livres?|sections?|p\.|pages?|"
    r"[وفبك]?(?:المادة|الماده|المواد|البند|الفقره|للمادة|للماده|للمواد)|decret|dahir|loi|n°|no\.?|c|trav\.?)"
)
REFERENCE_BEFORE = re.compile(_REFERENCE_WORDS + r"\s*$", re.I)
# the later numbers of a list of references: « articles 189, 190 et 192 », « المواد 189 و190 »
_JOIN = r"(?:,|et|and|ou|or|a|to|و)"
REFERENCE_LIST_BEFORE = re.compile(_REFERENCE_WORDS + rf"\s*\d+(?:\s*{_JOIN}\s*\d+)*\s*(?:,\s*)?{_JOIN}\s*$", re.I)
FILLER = {"premieres", "premiers", "premiere", "premier", "1eres", "1ers", "1ere", "1er", "consecutives", "consecutifs",
          "pleines", "pleins", "effectives", "effectifs", "ouvrables", "ouvres", "calendaires", "de", "d", "du", "full",
          "working", "consecutive", "calendar", "first", "additional", "supplementaires", "complete", "completes", "كامله", "متتاليه"}


@dataclass(frozen=True)
class Figure:
    value: str  # canonical: "17.92", "2288"
    unit: str  # a family of UNIT_WORDS, or "" for a bare number
    period: str = ""  # day | week | month | year for a rate
    text: str = ""  # as written

    def agrees_with(self, other: "Figure") -> bool:
        if self.value != other.value:
            return False
        if self.unit and other.unit and self.unit != other.unit:
            return False
        return not (self.period and other.period and self.period != other.period)

    def label(self) -> str:
        return self.text or self.value


def canonical_number(raw: str) -> str:
    raw = raw.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
        raw = raw.replace(".", "")
    raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return raw
    return str(int(value)) if value.is_integer() else f"{value:g}"


# Arabic cardinal words, as rag.lexical.normalise writes them (hamza and alef variants unified,
# ة → ه, ى → ي): the code states most of its figures in words (« ثلاثين يوما », « ثماني وأربعين ساعة »)
_AR_UNITS = {"واحد": 1, "واحده": 1, "احد": 1, "احدي": 1, "اثنان": 2, "اثنين": 2, "اثنتان": 2, "اثنتين": 2, "اثنا": 2,
             "اثني": 2, "اثنتا": 2, "اثنتي": 2, "ثلاث": 3, "ثلاثه": 3, "اربع": 4, "اربعه": 4, "خمس": 5, "خمسه": 5,
             "ست": 6, "سته": 6, "سبع": 7, "سبعه": 7, "ثمان": 8, "ثماني": 8, "ثمانيه": 8, "تسع": 9, "تسعه": 9}
_AR_TEN = {"عشر": 10, "عشره": 10}
_AR_TENS = {stem + ending: 10 * n for n, stem in enumerate(["عشر", "ثلاث", "اربع", "خمس", "ست", "سبع", "ثمان", "تسع"], start=2)
            for ending in ("ون", "ين")}
_AR_HUNDREDS = {"مايه": 100, "ميه": 100, "مايتان": 200, "مايتين": 200, "ميتان": 200, "ميتين": 200,
                **{f"{unit}{h}": n * 100 for unit, n in [("ثلاث", 3), ("اربع", 4), ("خمس", 5), ("ست", 6), ("سبع", 7),
                                                        ("ثمان", 8), ("تسع", 9)] for h in ("مايه", "ميه")}}
_AR_THOUSANDS = {"الف": 1000, "الفا": 1000, "الاف": 1000, "الفان": 2000, "الفين": 2000}
# a unit noun in the dual is « two » of it: « ساعتين » = 2 ساعات
_AR_DUALS = {"ساعتين": "ساعات", "ساعتان": "ساعات", "يومين": "ايام", "يومان": "ايام", "شهرين": "اشهر", "شهران": "اشهر",
             "سنتين": "سنوات", "سنتان": "سنوات", "اسبوعين": "اسابيع", "اسبوعان": "اسابيع", "دقيقتين": "دقايق", "دقيقتان": "دقايق"}
_AR_WORD = re.compile(r"[\u0621-\u064A\u064B-\u0652\u0670]+")


def _arabic_number_value(word: str) -> int | None:
    """The value of one normalised Arabic number word (with « و » and, for tens, « ال » in front), else None."""
    for bare in dict.fromkeys([word, word[1:] if word.startswith("و") else word]):
        for table in (_AR_UNITS, _AR_TEN, _AR_TENS, _AR_HUNDREDS, _AR_THOUSANDS):
            if bare in table:
                return table[bare]
        if bare.startswith("ال") and bare[2:] in _AR_TENS:  # « سن الستين »
            return _AR_TENS[bare[2:]]
    return None


def arabic_digits_for_words(text: str) -> str:
    """« ثماني وأربعين ساعة » → « 48 ساعة », « ثلاثة آلاف » → « 3000 », « ساعتين » → « 2 ساعات »."""
    words = list(_AR_WORD.finditer(text))
    folded = [normalise(m.group(0)) for m in words]
    values = [_arabic_number_value(w) for w in folded]
    out, last, i = [], 0, 0
    while i < len(words):
        if values[i] is None:
            dual = _AR_DUALS.get(folded[i])
            if dual:
                out += [text[last:words[i].start()], f"2 {dual}"]
                last = words[i].end()
            i += 1
            continue
        if values[i] == 10 and i > 0 and folded[i - 1].startswith("ال"):
            i += 1  # « السادسة عشرة »: the second word of an ordinal, not ten
            continue
        total, current, j = 0, 0, i
        while j < len(words):
            if j > i and not text[words[j - 1].end():words[j].start()].isspace():
                break  # a run is only words parted by spaces
            v = values[j]
            if v is None:
                break
            if j > i and not folded[j].startswith("و") and not (v == 10 and 0 < current < 10) and v < 1000:
                break  # « ثلاثة عشر » goes on, « خمسة ستة » does not
            if v >= 1000:
                total += max(current, 1) * v if v == 1000 else v
                current = 0
            else:
                current += v
            j += 1
        out += [text[last:words[i].start()], str(total + current)]
        last = words[j - 1].end()
        i = j
    out.append(text[last:])
    return "".join(out)


def digits_for_words(text: str, lang: str) -> str:
    """« cinq années » → « 5 années » (French, English), « ثلاثين يوما » → « 30 يوما » (Arabic)."""
    if _AR_WORD.search(text):
        text = arabic_digits_for_words(text)
    if lang not in ("fr", "en"):
        return text
    from text_to_num import alpha2digit

    if lang == "fr":  # « d'un jour et demi », « qu'une heure »: the converter only reads the word alone
        text = re.sub(r"([dD]|[qQ]u)(['’])(une?)\b", r"\1\2 \3", text)  # lorsqu'une, jusqu'un too
    try:
        return alpha2digit(text, lang, threshold=0)
    except Exception:  # a text the converter cannot parse keeps its words
        return text


def _starts_with(rest: str, table: list[tuple[str, str]]) -> tuple[str, str] | None:
    for word, value in table:
        if rest.startswith(word) and (len(rest) == len(word) or not rest[len(word)].isalnum() or not word[-1].isalnum()):
            return word, value
    return None


def figures_in(text: str, lang: str = "fr") -> list[Figure]:
    """Every figure of a text with its unit and period; references (art. 53, p. 12, n° 2-04-570) skipped."""
    converted = digits_for_words(re.sub(r"\[\s*\d+\s*\]", " ", text), lang)  # « [1] » list markers are not figures
    plain = normalise(converted)
    found_at: list[tuple[int, Figure]] = []
    clocks: list[tuple[int, int]] = []
    for m in CLOCK_TIME.finditer(plain):  # « 21:00 », « 21h30 », « 22 h 30 »: an hour of the day
        value = canonical_number(str(int(m.group(1)) + int(m.group(2)) / 60))
        found_at.append((m.start(), Figure(value, "hours", "", m.group(0))))
        clocks.append(m.span())
    for match in NUMBER.finditer(plain):
        if any(start <= match.start() < end for start, end in clocks):
            continue
        if REFERENCE_BEFORE.search(plain[max(0, match.start() - 12):match.start()]):
            continue
        if re.match(r"[-./]\d", plain[match.end():match.end() + 2]) or re.search(r"\d[-/]$", plain[:match.start()]):
            continue  # 2-04-570, 29/12/2004
        rest = plain[match.end():]
        ordinal = ORDINAL_SUFFIX.match(rest)
        if ordinal:
            rest = rest[ordinal.end():]
            if ordinal.group(0).endswith("s") or not _starts_with(rest.lstrip(), _UNIT):
                continue  # « 1ères années », « 2e alinéa »: an ordinal, not a quantity
            # « après la 4e heure de travail », « la 5e année »: as many units as the ordinal counts
        unit, period, end = "", "", match.end()
        cursor = rest.lstrip()
        for _ in range(3):  # « 5 premières années », « 10 jours ouvrables »
            found = _starts_with(cursor, _UNIT)
            if found:
                unit = found[1]
                cursor = cursor[len(found[0]):].lstrip()
                end = len(plain) - len(cursor)
                break
            head = re.match(r"(\w+)\s*", cursor)
            if not head or head.group(1) not in FILLER:
                break
            cursor = cursor[head.end():]
        value = canonical_number(match.group(1))
        half = re.match(r"(?:et demie?|and a half|ونصف)\b\s*", cursor)
        if unit and half:
            value = canonical_number(str(float(value) + 0.5))  # « un jour et demi »
            cursor = cursor[half.end():]
            end = len(plain) - len(cursor)
        if unit:
            found = _starts_with(re.sub(r"^(?:(?:de travail|of work|de salaire|du salaire|effectif|effectives?)\s+)+", "", cursor), _PERIOD)
            if found:
                period = found[1]
        if value == "1" and not unit:
            continue  # « un délai », « une lettre », « la première présentation »: an article, not a quantity
        if not unit and REFERENCE_LIST_BEFORE.search(plain[max(0, match.start() - 80):match.start()]):
            continue  # « articles 189, 190 et 192 »; « art. 184 et 44 heures » keeps its figure
        found_at.append((match.start(), Figure(value, unit, period, plain[match.start():end].strip())))
    return _sentence_periods(plain, [f for _, f in sorted(found_at, key=lambda p: p[0])])


def _sentence_periods(plain: str, figures: list[Figure]) -> list[Figure]:
    """« La durée hebdomadaire est de 44 heures », « par semaine … 2288 heures »: a sentence with one
    period and one timed figure without its own gives that figure the period."""
    timed = [f for f in figures if f.unit in ("hours", "days", "minutes") and not f.period]
    if len(timed) != 1 or any(f.period for f in figures):
        return figures
    periods = {p for word, p in _PERIOD if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", plain)}
    if len(periods) != 1:
        return figures
    period = periods.pop()
    return [Figure(f.value, f.unit, period, f.text) if f is timed[0] else f for f in figures]


def unsupported(stated: list[Figure], evidence: list[Figure], exact_period: bool = False) -> list[Figure]:
    """The stated figures that no evidence figure agrees with (value, unit and period).

    When the evidence states the figure's period somewhere (« 2288 heures sur l'année »), its
    mentions without a period (« le passage de 2496 à 2288 heures ») do not back another period:
    « 2288 heures par semaine » is unsupported by a text that has both. With ``exact_period`` (a
    citation attached by the figures alone), a figure with a period needs evidence with that period."""
    missing = []
    for f in stated:
        # a figure with a unit needs evidence with that unit: a bare number backs nothing (« عشرة » of
        # « السنة الحادية عشرة », which the Arabic PDF breaks into « الس نة … عشرة », is no « 10 % »)
        matches = [e for e in evidence if f.agrees_with(e) and (e.unit or not f.unit)]
        if exact_period and f.period:
            matches = [e for e in matches if e.period == f.period]
        if f.period and matches and not any(e.period == f.period for e in matches):
            timed = [e for e in evidence if e.value == f.value and e.period and (not f.unit or not e.unit or e.unit == f.unit)]
            if timed:
                matches = []
        if not matches:
            missing.append(f)
    return missing
