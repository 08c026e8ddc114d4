"""Which law a question is about, and whether the indexed texts can answer it at all.

Every indexed text has a jurisdiction (catalog: MA, FR, ILO). A question that names no foreign
text is answered from Moroccan law first, foreign agreements coming as labelled comparables; a
question that names a country whose law no indexed text covers ("minimum wage in Spain") gets
« not found » instead of a Moroccan answer dressed as Spanish law. Country names in French,
English and Arabic come from ISO 3166 via ``pycountry`` and its translations.
"""

from __future__ import annotations

import gettext
import re
from functools import lru_cache

from rag.lexical import normalise

# what the question names → the jurisdictions of indexed texts it points at
NAMED_JURISDICTIONS = {
    "MA": re.compile(r"\bmaroc\w*|\bmorocc\w*|المغرب|مغربي|code du travail|labou?r code|مدونة الشغل|c\.\s*trav|\bsmig\b|\bsmag\b", re.I),
    "FR": re.compile(r"\bidcc\b|\b2098\b|\bfran[çc]\w*|\bfrench\b|الفرنسي|فرنسا|avenant|convention collective nationale", re.I),
    "ILO": re.compile(r"\b(?:oit|ilo|bit)\b|international labou?r|منظمة العمل الدولية|\bc\s?0?\d{2,3}\b|convention (?:n[°o]\.?\s*)?\d{2,3}\b|الاتفاقية رقم", re.I),
}
# kinds of text that belong to each jurisdiction when a search is restricted to one of them
JURISDICTION_KINDS = {"MA": ["law", "decree"], "FR": ["agreement"], "ILO": ["intl_convention"]}
COUNTRY_OF_JURISDICTION = {"MA": "MA", "FR": "FR"}


def named_jurisdictions(question: str) -> list[str]:
    """Jurisdictions the question names, in a stable order (MA, FR, ILO)."""
    return [code for code, rx in NAMED_JURISDICTIONS.items() if rx.search(question)]


@lru_cache(maxsize=1)
def _country_patterns() -> list[tuple[str, re.Pattern]]:
    import pycountry

    translations = []
    for lang in ("fr", "ar"):
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]))
        except OSError:  # a pycountry without that locale: English names only
            pass
    patterns = []
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", ""), getattr(country, "official_name", "")}
        names.update(t.gettext(country.name) for t in translations)
        variants = set()
        for name in filter(None, names):
            plain = normalise(re.sub(r"\s*[,(].*$", "", name)).strip()  # "Bolivia, Plurinational State of" → "bolivia"
            arabic = bool(re.fullmatch(r"[\u0600-\u06FF ]+", plain))
            if len(plain) >= (3 if arabic else 4):
                variants.add(re.escape(plain))
                if arabic and " " not in plain and re.fullmatch(r"[\u0600-\u06FF]+", plain):
                    # the Arabic adjective (nisba) names the country's law too: مصر → المصري, إسبانيا → الإسباني
                    stem = plain[2:] if plain.startswith("ال") else plain
                    stem = re.sub(r"(?:يا|ا|ه)$", "", stem)
                    variants.update(re.escape(v) for v in (stem + "ي", stem + "يه", "ال" + stem + "ي", "ال" + stem + "يه"))
        if variants:
            alternatives = "|".join(sorted(variants, key=len, reverse=True))
            patterns.append((country.alpha_2, re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])")))
    return patterns


def countries_named(question: str) -> set[str]:
    """ISO alpha-2 codes of the countries a question names (French, English or Arabic names)."""
    text = normalise(question)
    found = {code for code, rx in _country_patterns() if rx.search(text)}
    # Arabic glues prepositions to the name (بالجزائر, لإسبانيا): try without a one-letter prefix too
    for word in re.findall(r"[\u0600-\u06FF]+", text):
        if len(word) > 4 and word[0] in "بلوفك":
            found |= {code for code, rx in _country_patterns() if rx.fullmatch(word[1:]) or rx.fullmatch("ال" + word[1:])}
    return found


def uncovered_countries(question: str, covered: set[str]) -> set[str]:
    """Countries the question names whose law none of the ``covered`` jurisdictions is."""
    countries = {COUNTRY_OF_JURISDICTION.get(j) for j in covered} - {None}
    return countries_named(question) - countries


def names_other_law(question: str) -> bool:
    """Whether a question names a country other than Morocco, the French agreement or the ILO: what
    is computed from Moroccan statute (the legal calculators) does not answer it."""
    return bool(countries_named(question) - {"MA"} or set(named_jurisdictions(question)) - {"MA"})
