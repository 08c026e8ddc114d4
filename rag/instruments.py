"""Agreements a question names by their subject: « la convention collective nationale des
télécommunications », « l'accord national interprofessionnel de 2020 », « the banking collective
agreement », « الاتفاقية الجماعية لقطاع الأبناك ».

When no indexed text's title carries the distinctive words of that name, the question asks about a
text this corpus does not hold: the closest indexed agreement (here the French call-centre one)
would answer it with another text's rule. The words that only say which kind of text it is
(« nationale », « française », « secteur ») are not distinctive; a name made only of them is not
checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.lexical import tokenize

_QUALIFIER = r"(?P<q>[^\W\d_][\w'’-]*(?:\s+(?!(?:{stops})\b)[\w'’-]+){{0,3}})"
_STOPS_FR = "en|pour|sur|dans|selon|à|au|aux|qui|que|qu|est|sont|prévoit|prévoient|accorde|accordent|fixe|fixent|impose|applicable|et|ou|concernant|relative?|du|de|des|la|le|les|l"
_STOPS_EN = "in|for|on|under|about|which|that|is|are|does|do|grant|grants|set|sets|and|or|the|of|say|says|provide|provides"
# French: the subject follows the kind of text (« convention collective [nationale] des banques »)
_FRENCH = re.compile(
    r"\b(?:convention|accord)s?\s+collecti(?:f|ve)s?(?:\s+(?:nationale?s?|de travail|sectorielle?s?|de branche))*\s+"
    r"(?:de\s+la\s+|de\s+l['’]\s*|des\s+|du\s+|de\s+|d['’]\s*)" + _QUALIFIER.format(stops=_STOPS_FR),
    re.I,
)
# an interprofessional or branch agreement: the kind is itself the distinctive part
_FRENCH_KIND = re.compile(r"\baccords?\s+(?:nationaux\s+|national\s+)?interprofessionnels?\b|\baccords?\s+de\s+branche\s+(?:de\s+la\s+|des\s+|du\s+|de\s+)"
                          + _QUALIFIER.format(stops=_STOPS_FR), re.I)
# English: the subject comes before (« the banking collective agreement ») or after (« … for banks »)
_ENGLISH_AFTER = re.compile(r"\bcollective\s+(?:bargaining\s+)?agreements?\s+(?:for|of|covering)\s+(?:the\s+)?" + _QUALIFIER.format(stops=_STOPS_EN), re.I)
_ENGLISH_AGREEMENT = re.compile(r"\bcollective\s+(?:bargaining\s+)?agreements?\b", re.I)
_ENGLISH_BEFORE_STOPS = set(_STOPS_EN.split("|")) | {"a", "an", "this", "that", "its", "their", "our", "what", "by", "to", "with", "from", "any", "each", "no"}
_ENGLISH_KIND = re.compile(r"\bnational\s+(?:cross-industry|interprofessional)\s+agreements?\b", re.I)
# Arabic: « الاتفاقية الجماعية ل(قطاع) … »
_ARABIC = re.compile(r"(?:الاتفاقي[ةه]|اتفاقي[ةه])\s+(?:ال)?جماعي[ةه](?:\s+(?:ال)?وطني[ةه])?\s+(?:ل|في\s+|الخاص[ةه]\s+ب)(?P<q>[\u0600-\u06FF]+(?:\s+[\u0600-\u06FF]+){0,2})")

# words that only say which kind of text or where: not what tells two agreements apart
GENERIC = set(tokenize(
    "convention conventions accord accords collective collectif collectives nationale national nationaux sectorielle sectoriel "
    "branche branches secteur secteurs travail activité activités entreprise entreprises salariés employeurs applicable vigueur "
    "française français france marocaine marocain maroc étendue "
    "collective agreement agreements national industry sector sectoral french moroccan morocco france the this that our their "
    "which what whose its applicable current "
    "الاتفاقيه الاتفاقية الجماعيه الجماعية الوطنيه الوطنية قطاع القطاع المغرب المغربيه الفرنسيه فرنسا الشغل"
))


def named_instruments(question: str) -> list[tuple[str, set[str]]]:
    """Each agreement the question names by its subject, with the distinctive word stems of its name."""
    named: list[tuple[str, str]] = []
    for rx in (_FRENCH, _FRENCH_KIND, _ENGLISH_AFTER, _ENGLISH_KIND, _ARABIC):
        named += [(m.group(0).strip(), m.groupdict().get("q") or m.group(0)) for m in rx.finditer(question)]
    for match in _ENGLISH_AGREEMENT.finditer(question):  # « the banking (national) collective agreement »
        before = re.findall(r"[\w'’-]+", question[:match.start()])
        subject: list[str] = []
        for word in reversed(before[-3:]):
            if word.lower() in _ENGLISH_BEFORE_STOPS:
                break
            subject.insert(0, word)
        if subject:
            named.append((" ".join(subject) + " " + match.group(0), " ".join(subject)))
    found: list[tuple[str, set[str]]] = []
    for phrase, qualifier in named:
        words = {w for w in tokenize(_noun_phrase(qualifier)) if w not in GENERIC and not w.isdigit()}
        if words:
            found.append((phrase, words))
    return found


# a name ends where a verb starts: an inverted subject (« doit-elle », « peut-on », « a-t-il ») or a
# modal or auxiliary (« … de travail doit être déposée »)
_INVERSION = re.compile(r"\w-(?:t-)?(?:il|elle|ils|elles|on|je|nous|vous)$", re.I)
_VERBS = set("doit doivent peut peuvent pourra pourront être est sont était sera seront a ont avait fait font "
             "can must may should will would shall does do did is are was were has have had".split())


def _noun_phrase(qualifier: str) -> str:
    """The qualifier up to its first verb."""
    kept = []
    for word in qualifier.split():
        if _INVERSION.search(word) or word.lower() in _VERBS:
            break
        kept.append(word)
    return " ".join(kept)


def unindexed_instruments(question: str, titles: Iterable[str]) -> list[str]:
    """The agreements the question names that no indexed text's title matches: at least half of the
    distinctive words of the name must be in one title (stems, accents folded)."""
    vocab = [set(tokenize(title)) for title in titles]
    missing = []
    for phrase, words in named_instruments(question):
        if not any(len(words & title) * 2 >= len(words) for title in vocab):
            missing.append(phrase)
    return missing
