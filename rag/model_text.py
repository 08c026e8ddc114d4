"""What the model wrote, as text: its sentences and lists, the references it typed, its loops.

The chat engine (:mod:`rag.answer`) checks an answer sentence by sentence; this module only cuts and
cleans the model's text: sentences with the line breaks that followed them (a list keeps its lines,
« 2. » is an item's number, not a figure), references the model typed instead of a source key,
negations, HTML and links it must not carry, and the repetition a small model falls into.
"""

from __future__ import annotations

import functools
import re

from rag.figures import figures_in
from rag.ingest import detect_lang

# a source key as the model writes it: « [S2] », « [S1, S3] »
KEY_RX = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S?\d+)*)\s*\]")


# a list item's marker: « 1. », « 2) », « a) », « - », « • » (it numbers the item, it states nothing)
LIST_MARKER = re.compile(r"^\s*(?:[-*•]\s+|\(?\d{1,2}[.)](?=\s)\s*|\(?[a-zA-Z][.)](?=\s)\s*)")
_ANSWER_BREAK = re.compile(r"(?<=[.!?؟])[ \t]+|[ \t]*\n\s*")
# item numbers inside a sentence: « … sont : 1. l'hygiène 2. la sécurité »
_INLINE_MARKER = re.compile(r"(?:(?<=^)|(?<=[\s:;،(]))(\d{1,2})[.)]\s+(?=[^\d\s])")
# a point that ends an abbreviation, not a sentence (when a digit or a small letter follows)
_ABBREVIATION = re.compile(r"(?:^|[\s(’'])(?:\w|arts?|pp?|al|alin|trav|cf|ex|n°|no|réf|art\.\s*\d+\s*al)\.$", re.I)
_NUMBER_POINT = re.compile(r"(?:(?<=^)|(?<=[\s:;،(]))(\d{1,2})\.(?=[ \t]+\D)")


def _item_points(text: str) -> set[int]:
    """Where the point of an item number stands (« 1. l'hygiène 2. la sécurité »): a number followed
    by a point that the next or the previous number of the list also has."""
    found = [(int(m.group(1)), m.end()) for m in _NUMBER_POINT.finditer(text)]
    numbers = {n for n, _ in found}
    return {end for n, end in found if n + 1 in numbers or n - 1 in numbers}


def answer_sentences(text: str) -> list[tuple[str, str]]:
    """The model's sentences, each with the white space that followed it (a line break stays a
    line break: a list keeps its lines). « 1. » or « a) » alone is the marker of the item after it,
    never a sentence of its own."""
    pieces, seps, start = [], [], 0
    points = _item_points(text)
    for m in _ANSWER_BREAK.finditer(text):
        if m.start() in points:
            continue  # « 2. » opens an item: the sentence goes on
        if "\n" not in m.group(0) and _ABBREVIATION.search(text, 0, m.start()) and re.match(r"[\da-zà-ÿ(]", text[m.end():m.end() + 1]):
            continue  # « art. 184 », « C. trav. », « p. 79 »: an abbreviation's point
        pieces.append(text[start:m.start()])
        seps.append(m.group(0))
        start = m.end()
    pieces.append(text[start:])
    seps.append("")
    out: list[tuple[str, str]] = []
    carry = ""
    for piece, sep in zip(pieces, seps):
        if not piece.strip():
            if out and "\n" in sep and "\n" not in out[-1][1]:
                out[-1] = (out[-1][0], "\n")
            continue
        if LIST_MARKER.fullmatch(piece + " ") and "\n" not in sep:
            carry += piece + " "  # « 1. » then the item's words
            continue
        out.append((carry + piece, "\n\n" if sep.count("\n") > 1 else "\n" if "\n" in sep else " "))
        carry = ""
    if carry.strip():
        out.append((carry.strip(), ""))
    return out


def without_list_markers(sentence: str) -> str:
    """The sentence without the numbers of its list items: a leading marker, and inline ones when
    they count up (1. … 2. …): « 2. » numbers an item, it is not a figure to check."""
    sentence = LIST_MARKER.sub("", sentence, count=1)
    sentence = re.sub(r"(?<=:)\s*1[.)]\s+(?=\D)", " ", sentence)  # « … sont : 1. l'hygiène »
    marks = list(_INLINE_MARKER.finditer(sentence))
    numbers = [int(m.group(1)) for m in marks]
    if len(marks) >= 2 and all(b == a + 1 for a, b in zip(numbers, numbers[1:])):
        for m in reversed(marks):
            sentence = sentence[:m.start()] + sentence[m.end():]
    return sentence


@functools.cache
def _html_cleaner():
    import nh3

    # no tag survives; these go with their content (a script's code, an SVG's handlers)
    dropped = {"script", "style", "iframe", "object", "embed", "svg", "math", "noscript", "template", "textarea", "title"}
    return nh3.Cleaner(tags=set(), clean_content_tags=dropped, attributes={}, strip_comments=True)


def _plain_entity(match: re.Match) -> str:
    # nh3 returns HTML: give the text back its characters, except a "<" that would open a tag
    name = match.group(1)
    if name == "lt":
        return "&lt;" if re.match(r"[A-Za-z/!?]", match.string[match.end():match.end() + 1]) else "<"
    return {"amp": "&", "gt": ">", "nbsp": "\u00a0"}[name]


def sanitise_model_text(text: str) -> str:
    """Model output is shown as Markdown: no HTML, no images, no links (an image URL is fetched by
    the browser and can carry a draft away; a link can hide ``javascript:``). Citation keys stay.
    HTML goes through nh3 (a real HTML parser: unclosed tags, comments, entities); Markdown images
    and links, which are not HTML, are undone here."""
    text = re.sub(r"&(amp|lt|gt|nbsp);", _plain_entity, _html_cleaner().clean(text))
    label, target = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]", r"\((?:[^()]|\([^()]*\))*\)"
    text = re.sub(r"!" + label + target, "", text)  # inline images, nested brackets included
    text = re.sub(r"(?!\[\s*S\d)" + label + target, r"\1", text)  # inline links → their words
    text = re.sub(r"(?im)^ {0,3}\[[^\]]+\]:[ \t]*<?(?:[a-z][a-z0-9+.-]*:|//|www\.)\S*", "", text)  # reference definitions
    text = text.replace("![", "[")  # reference-style images ![a][r], ![r] cannot be images any more
    return re.sub(r"(?i)(?:java|vb)script:", "", text)


# a cut mark of the sources (« […] », rag.answer fits each source to its budget) copied by the model,
# with the list marker of an item that holds nothing else (« 2. […] 3. […] » down a whole list)
ELIDED_ITEM = re.compile(r"(?:(?<=\s)|^)(?:\(?\d{1,3}[.)]|[-*•])?[ \t]*\[…\][ \t]*[.;,]?")


def without_elisions(text: str) -> str:
    """The model text without the sources' cut marks it copied: they say nothing, and a list of
    empty numbered items reads as figures."""
    return ELIDED_ITEM.sub(" ", text) if "[…]" in text else text


WEB_ADDRESS = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s)\]>»]*")


def source_text_for_display(text: str) -> str:
    """A source's own sentence shown in the chat (a quote): its images and links undone like a
    model's, its bare web addresses left out (escaped, « ![](http://…) » still showed the address,
    and a Markdown renderer may turn an address into a link) and no source key (« [S2] ») of its own."""
    return KEY_RX.sub(" ", WEB_ADDRESS.sub("‹adresse web›", sanitise_model_text(text)))


_TYPED_ARTICLE = re.compile(r"(?:\bart(?:icle)?s?\.?|المادة|الفصل)\s*(\d+(?:\.\d+)*)", re.I)


def keys_for_typed_references(raw: str, sources: list[tuple[str, str, str, str]]) -> str:
    """A reference the model typed instead of the key (it copies the label it read: « (C. trav.,
    art. 201, p. 79) », « C. trav., art. 201 ») becomes that source's key when it names the
    article of a given source: ``sources`` is (key, label, short name, article) of each source."""
    for key, label, _, _ in sorted(sources, key=lambda s: -len(s[1])):
        without_page = re.sub(r",\s*p\.\s*\d+$", "", label)
        for typed in dict.fromkeys([label, without_page]):
            raw = re.sub(r"\(?\s*" + re.escape(typed) + r"(?:,\s*p\.\s*\d+)?\s*\)?", f" [{key}]", raw)

    def parenthesis(match: re.Match) -> str:
        inside = match.group(1)
        if KEY_RX.search(inside):
            return match.group(0)
        numbers = [m.group(1) for m in _TYPED_ARTICLE.finditer(inside)]
        if len(numbers) != 1:
            return match.group(0)
        same = [(key, short) for key, _, short, article in sources if article == numbers[0]]
        named = [key for key, short in same if short and short.casefold() in inside.casefold()]
        chosen = named or [key for key, _ in same]
        return f" [{chosen[0]}]" if chosen else match.group(0)

    raw = re.sub(r"\(([^()]{0,80})\)", parenthesis, raw)

    def label_with_page(match: re.Match) -> str:
        # a label the model half-copied (« ق. trav. (AR), art. 497, p. 131 »): article and page say it is one
        same = [key for key, _, _, article in sources if article == match.group(1)]
        return f" [{same[0]}]" if same else match.group(0)

    return re.sub(r"(?:\S{1,3}\.\s*trav\.?\s*(?:\(AR\)\s*)?,\s*)?\bart\.\s*(\d+(?:\.\d+)*)\s*,\s*p\.\s*\d+", label_with_page, raw)


# words that turn a statement into its opposite or a prohibition (French, English, Arabic)
_NEGATORS = (r"pas|jamais|aucune?|sans|nul(?:le)?|ni|interdi\w*|prohib\w*|not|never|without|cannot|nor|forbid\w*|"
             r"و?لا|ليس|ليست|لن|لم|دون|بدون|يمنع|يحظر|ممنوع")
NEGATION_RX = re.compile(rf"(?i)(?<!\w)(?:ne|n['’]|no(?!\.?\s*\d)|{_NEGATORS})(?!\w)")


def negated(text: str) -> bool:
    return bool(NEGATION_RX.search(KEY_RX.sub(" ", text)))


def names_article(sentence: str, article: str | None) -> bool:
    """Whether the sentence names this article (« l'article 392 », « art. 392 », « المادة 392 »)."""
    return bool(article) and any(m.group(1) == article for m in _TYPED_ARTICLE.finditer(sentence))


def tidy_model_references(raw: str) -> str:
    """References are rendered from structured citations only: a parenthesis the model wrote around
    a key « (C. trav. art. 350 [S2]) » becomes the key, and references it typed itself go."""
    raw = re.sub(r"\(([^()]*?)(\[\s*S\d+[^\]]*\])([^()]*?)\)", r" \2", raw)
    return re.sub(r"\s*\((?:C\.\s*trav|Code du travail|art\.|المادة)[^()]{0,80}\)", "", raw)


def looping(pieces: list[str], window: int = 400) -> bool:
    """The model repeats itself: one word or phrase (2 to 60 characters) back to back 6 times or more
    at the end of what it wrote (small models loop on a word in Arabic until the token limit), or one
    sentence (30 characters or more, list numbers and source keys aside) written 3 times."""
    tail = "".join(pieces[-80:])[-window:]
    if re.search(r"(.{2,60}?)(?:\s*\1){5,}\s*$", tail, re.S):
        return True
    return _repeated_sentence("".join(pieces), times=3) is not None


_SENTENCE_END = re.compile(r"(?<=[.;!?،؛])\s+|\n+")


def asks_back(sentence: str) -> bool:
    """A sentence that asks instead of answering: the question asked again (« À quelle condition… ?
    [S1] »), or questions of the model's own (« [Q1] هل توجد … ؟ »). It answers nothing, a citation
    after it would look like support, and nobody reads questions aloud as the law's answer."""
    return bool(re.search(r"[?؟]\W*$", KEY_RX.sub(" ", sentence).strip()))


def echoes_situation(sentence: str, question: str) -> bool:
    """A sentence that only tells the asker's own situation back (« Dans la boutique où je suis
    vendeuse, on reste debout toute la journée… »): nearly all its words (at least four) taken from
    one sentence of the question that asks nothing (it ends with a full stop, not a question mark),
    and no figure the question did not give. It answers nothing, and a citation after it would look
    like support."""
    from rag.lexical import tokenize

    words = tokenize(KEY_RX.sub(" ", sentence))
    if len(words) < 4:
        return False
    stated = {f.value for f in figures_in(KEY_RX.sub(" ", sentence))}
    for told in re.split(r"(?<=[.!;؛])\s+|(?<=[?؟])\s*", question):
        told = told.strip()
        if not re.search(r"[.!;؛]\W*$", told):  # asks something, or is a part of a question cut before its mark
            continue
        said = set(tokenize(told))
        # a figure the asker did not give is an answer (« … est de 25 % »), not the situation told back
        if sum(w in said for w in words) >= 0.9 * len(words) and stated <= {f.value for f in figures_in(told)}:
            return True
    return False


def without_repeats(sentences: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The model's (sentence, break after it) without a sentence it already wrote word for word
    (figures and keys included), and with source keys that open a sentence (« … par semaine. [S1]
    La majoration… ») given to the sentence before it when that one has none."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    opening = ""  # keys the answer opens with, before any sentence: they go to the first one
    for sentence, sep in sentences:
        if not out and KEY_RX.search(sentence) and not re.search(r"\w", KEY_RX.sub(" ", sentence)):
            opening += " " + " ".join(m.group(0) for m in KEY_RX.finditer(sentence))
            continue
        if opening and not out:
            sentence = sentence if KEY_RX.search(sentence) else re.sub(r"\s*([.!?؟:]?)\s*$", lambda m: f"{opening}{m.group(1)}", sentence, count=1)
            opening = ""
        lead = re.match(r"\s*(?:\[[^\]]*\]\s*)+", sentence) if out else None
        if lead and KEY_RX.search(lead.group(0)):  # keys that end the previous sentence
            before, before_sep = out[-1]
            if not KEY_RX.search(before):
                out[-1] = (f"{before.rstrip()} {lead.group(0).strip()}", before_sep)
            sentence = sentence[lead.end():]
            if not re.search(r"\w", sentence):
                if "\n" in sep:
                    out[-1] = (out[-1][0], sep)
                continue
        key = " ".join(KEY_RX.sub(" ", without_list_markers(sentence)).casefold().split()).rstrip(" .!?؟")
        if key in seen:
            continue
        seen.add(key)
        out.append((sentence, sep))
    return out


def _sentence_key(sentence: str) -> str:
    """A sentence as the loop repeats it: without source keys, list numbers, punctuation or case."""
    plain = re.sub(r"\[S\d+\]|\([^)]*\)|\d+", " ", sentence.casefold())
    return " ".join(re.findall(r"\w+", plain))


def _repeated_sentence(text: str, times: int, min_chars: int = 30) -> int | None:
    """Where the ``times``-th copy of a sentence starts, the repeated sentence being long enough to
    be a statement (a loop restates a whole sentence, often behind a new list number); None if none."""
    seen: dict[str, int] = {}
    start = 0
    for boundary in [*_SENTENCE_END.finditer(text), None]:
        end = boundary.start() if boundary else len(text)
        key = _sentence_key(text[start:end])
        if len(key) >= min_chars:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == times:
                return start
        start = boundary.end() if boundary else len(text)
    return None


def cut_repetition(text: str) -> str:
    """Keep one occurrence of the phrase or sentence the model was looping on."""
    cut = re.sub(r"(.{2,60}?)(?:\s*\1){2,}\s*$", r"\1", text, flags=re.S).rstrip()
    second = _repeated_sentence(cut, times=2)
    return cut[:second].rstrip() if second is not None else cut


def answer_language(text: str) -> str:
    """The language an answer is written in, references and figures aside."""
    plain = re.sub(r"\([^)]*\)|\[[^\]]*\]|\d+", " ", text)
    return detect_lang(plain) if len(plain.split()) >= 4 else ""


# one word of a text split into words (« n'est » gives « n »): NEGATION_RX's words
_NEGATION_WORD = re.compile(rf"(?i)(?:ne|n|no|{_NEGATORS})")
_NE_PARTNERS = {"pas", "jamais", "plus", "aucun", "aucune", "rien", "point", "nul", "nulle", "ni"}
NEGATION_REACH = 1  # content words a negation governs after it (« interdit de recourir au travail »: not « travail »)


def negation_scope(text: str) -> tuple[set[str], set[str], int]:
    """The stems of ``text`` said under a negation (the content word after « ne », « pas », « not »,
    « لا », « interdit »…), those said without one, and how many negations it has (« n'est pas » is
    one). « ne … que » restricts (« only »), it does not negate."""
    from rag.lexical import normalise, tokenize

    words = re.findall(r"[^\W_]+", normalise(KEY_RX.sub(" ", text)))  # Arabic diacritics off: « يُعتبر » is one word
    negated_stems: set[str] = set()
    plain: set[str] = set()
    reach = count = 0
    for i, word in enumerate(words):
        if _NEGATION_WORD.fullmatch(word):
            if word in ("ne", "n") and _restriction(words[i + 1:]):
                continue
            count += 0 if reach else 1
            reach = NEGATION_REACH
            continue
        stems = tokenize(word)
        if not stems:
            continue  # a stop word: not what the negation bears on
        (negated_stems if reach else plain).update(stems)
        reach = max(0, reach - 1)
    return negated_stems, plain, count


# « que » after these joins a clause (« telle que », « ainsi que », « parce que »): it ends no « ne … que »
_QUE_CONJUNCTIONS = {"tel", "telle", "tels", "telles", "ainsi", "alors", "bien", "parce", "afin", "tant", "avant", "apres",
                     "pour", "des", "sans", "meme", "autant", "moins", "plus", "si", "lors"}


def _restriction(after_ne: list[str]) -> bool:
    """« ne … que » (a « que » before any « pas », « jamais »…): « il ne peut être formé de recours … que
    devant la chambre sociale »."""
    for n, word in enumerate(after_ne):
        if word in ("que", "qu") and not (n and after_ne[n - 1] in _QUE_CONJUNCTIONS):
            return True
        if word in _NE_PARTNERS:
            return False
    return False


def inverts(claim: str, source: str) -> bool:
    """Whether ``claim`` has another number of negations than ``source`` and says without a negation a
    word ``source`` says under one, or the reverse: « يعتبر تنازلا » copied from « لا يعتبر تنازلا »,
    « le patron est obligé » from « n'est pas obligé ». A negation said another way (« sans nouvel
    accord » for « tant que n'est pas intervenu un nouvel accord ») keeps the count and is not flagged."""
    claim_negated, claim_plain, claim_count = negation_scope(claim)
    source_negated, source_plain, source_count = negation_scope(source)
    if claim_count == source_count:
        return False
    dropped = (source_negated - source_plain) & (claim_plain - claim_negated)
    added = (claim_negated - claim_plain) & (source_plain - source_negated)
    return bool(dropped or added)
