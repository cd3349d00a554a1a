"""Project anonymization (spec §15.2G `ProjectAnonymizer`): personal data out of a project before the master sees it.

What it removes, in free text (descriptions, messages, curated answers) and in structured data (a pre-quote, a
list of messages): the artisan's and the particulier's identities that the caller knows (names, company, emails,
phones, addresses: matched whatever their case and accents), and what it detects — emails, phone numbers (French
formats: 06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6…, +33 (0)6…, 0033 6…, 01-…; and international
numbers), IP addresses (v4, v6), street addresses (number, bis/ter, street type, name), postcodes with their city,
SIRET/SIREN (Luhn) and French VAT numbers, IBANs (mod 97 and the country's length, any country), company names
with a legal form (SARL…, SCI…), and person names (M./Mme/Monsieur/Madame/Dr + name, "je m'appelle…", signatures after
"Cordialement", "Prénom Nom" with the INSEE list of French first names, "NOM Prénom").

Each one is replaced by a stable placeholder: the same value gets the same placeholder everywhere in one project
(`[PERSONNE_1]`, `[EMAIL_1]`, `[TELEPHONE_2]`…; a phone written 06 12 34 56 78 or +33 6 12 34 56 78 is one
value; "M. Martin" after "Jean Martin" is the same person). Titles stay ("Mme [PERSONNE_1]"), so the text still
reads; construction vocabulary, brands, sizes, prices and quantities are left alone.

Interface (pure: no I/O; the word lists are data files of this package):

    anonymizer = ProjectAnonymizer(KnownIdentities(names=["Jean Martin"], companies=["Durant Peinture"],
                                                   emails=[...], phones=[...], addresses=[...]))
    anonymizer.anonymize_text("Bonjour, je suis Jean Martin, 06 12 34 56 78")
        -> Anonymized(text="Bonjour, je suis [PERSONNE_1], [TELEPHONE_1]", replacements=(Replacement(...), ...))
    anonymizer.anonymize_data({"description": "...", "client": {"name": "Jean Martin", "phone": "0612345678"}})
        -> AnonymizedData(data={...same keys, every string anonymized...}, replacements=(...))

One `ProjectAnonymizer` per project: every call shares its placeholder map. `anonymize_data` walks dicts, lists
and tuples recursively: keys are kept, numbers/booleans/None are kept, every string value is anonymized, and a
string under an identity key (`name`, `email`, `phone`, `address`, `postal_code`, `city`, `siret`, `iban`,
`client_ip`…) is replaced whole. It reads all the strings once before rewriting them, so a surname met in a later
message is also removed from an earlier one. The module-level `anonymize_text` / `anonymize_data` are one-shot
shortcuts (a fresh map per call).

`replacements` (kind, placeholder, original, offsets, path) is the re-identification key: it is for the caller's
audit and review screens, never for the master.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Literal, TypeVar, cast, get_args

Kind = Literal[
    "PERSONNE", "ENTREPRISE", "EMAIL", "TELEPHONE", "ADRESSE", "CODE_POSTAL", "SIRET", "SIREN", "TVA", "IBAN", "IP"
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

T = TypeVar("T")
PathPart = str | int


# --------------------------------------------------------------------------------------------------- public types
@dataclass(frozen=True)
class KnownIdentities:
    """What the caller knows of the project's people: the particulier, the artisan and its company."""

    names: Sequence[str] = ()
    companies: Sequence[str] = ()
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()
    addresses: Sequence[str] = ()


@dataclass(frozen=True)
class Replacement:
    kind: Kind
    placeholder: str
    original: str
    start: int  # offsets in the original string
    end: int
    path: tuple[PathPart, ...] = ()  # where the string sits in anonymize_data's input; () for a text


@dataclass(frozen=True)
class Anonymized:
    text: str
    replacements: tuple[Replacement, ...]


@dataclass(frozen=True)
class AnonymizedData(Generic[T]):
    data: T
    replacements: tuple[Replacement, ...]


# ------------------------------------------------------------------------------------------------ folding, lexicon
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "’": "'"})


def fold(text: str) -> str:
    """Case- and accent-insensitive form: `Hélène Lefèvre` and `HELENE LEFEVRE` fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _fold_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z@.]+", " ", fold(text)).split())


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    ambiguous_first_names: frozenset[str]
    words: frozenset[str]  # never part of a name
    common_words: frozenset[str]  # everyday words that are also surnames or colours
    acronyms: frozenset[str]
    brands: frozenset[tuple[str, ...]]  # folded words of each brand ("villeroy", "boch")
    brand_words: int  # the longest brand, in words


_WORD = re.compile(r"\w+")


def _data_lines(name: str) -> list[str]:
    from importlib import resources  # at the first call, not at import: the cold start of its functions counts

    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def lexicon() -> Lexicon:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in _data_lines("lexique_fr.txt"):
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        else:
            sections.setdefault(current, []).append(line)
    brands = frozenset(tuple(fold(w) for w in _WORD.findall(b)) for b in sections["marques"])
    return Lexicon(
        first_names=frozenset(fold(n) for n in _data_lines("prenoms_fr.txt")),
        ambiguous_first_names=frozenset(fold(n) for n in sections["prenoms_ambigus"]),
        words=frozenset(fold(w) for w in sections["mots"]),
        common_words=frozenset(fold(w) for w in sections["mots_courants"]),
        acronyms=frozenset(fold(w) for w in sections["sigles"]),
        brands=brands,
        brand_words=max(len(b) for b in brands),
    )


_ACCENTS: Final = {
    "a": "aàâäáãå", "c": "cç", "e": "eéèêë", "i": "iîïíì", "n": "nñ", "o": "oôöóòõø", "u": "uùûüú", "y": "yÿý",
}  # fmt: skip


def loose_pattern(value: str) -> str:
    """A regex matching `value` whatever its accents, spacing, hyphens and apostrophes (case: the caller's flags)."""
    parts: list[str] = []
    for word in re.split(r"[\s\-'’.]+", fold(value).strip(" -'.")):
        parts.append("".join(f"[{_ACCENTS[c]}]" if c in _ACCENTS else re.escape(c) for c in word))
    return r"[\s\-'’.]*".join(p for p in parts if p)


# ----------------------------------------------------------------------------------------------------- detection
@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: Kind
    key: str  # the normalised value: one placeholder per (kind, key)
    rank: int  # which detector wins an overlap
    person: str = ""  # the name itself, for PERSONNE (a title or a role word is not part of it)


RANKS: Final[dict[str, int]] = {
    "EMAIL": 100, "IBAN": 95, "TVA": 92, "SIRET": 90, "SIREN": 88, "TELEPHONE": 85, "IP": 80, "ADRESSE": 70,
    "CODE_POSTAL": 65, "KNOWN_ENTREPRISE": 60, "KNOWN_PERSONNE": 58, "ENTREPRISE": 50,
    "PERSONNE": 40, "ALIAS": 30,
}  # fmt: skip

_SEP = r"[ \u00a0\u202f]"  # spaces inside a number, never a line break
_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+(?:@|\s?[(\[{]\s?(?:at|arobase)\s?[)\]}]\s?)[\w\-]+(?:\.[\w\-]+)*"
    r"(?:\.|\s?[(\[{]\s?(?:dot|point)\s?[)\]}]\s?)[a-zA-Z]{2,}(?![\w\-])",
    re.IGNORECASE,
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \-\u00a0]?[A-Za-z0-9]){11,32}")
_IBAN_KEYWORD = re.compile(r"(?:iban|rib|virement|compte)\W{0,3}(?:\w+\W+){0,4}$", re.IGNORECASE)
_SIRET = re.compile(
    rf"(?<![\w+])(?<!\d[ .])\d{{3}}(?:{_SEP}|\.)?\d{{3}}(?:{_SEP}|\.)?\d{{3}}(?:{_SEP}|\.)?\d{{5}}(?!\w)"
)
_SIREN = re.compile(rf"(?<![\w+])(?<!\d[ .])\d{{3}}(?:{_SEP}|\.)?\d{{3}}(?:{_SEP}|\.)?\d{{3}}(?![ .]?\d)(?!\w)")
_SIRET_KEYWORD = re.compile(r"siret\W{0,4}(?:n\W{0,3})?$", re.IGNORECASE)
_SIREN_KEYWORD = re.compile(r"(?:siren|rcs|rm|immatricul\w*)(?:\W+\w+){0,2}\W{0,4}(?:n\W{0,3})?$", re.IGNORECASE)
_TVA = re.compile(r"(?<![\w])FR[ \u00a0]?[0-9A-HJ-NP-Z]{2}[ \u00a0]?\d{3}[ \u00a0]?\d{3}[ \u00a0]?\d{3}(?!\w)", re.I)
_TVA_KEYWORD = re.compile(r"tva\W{0,4}(?:intra\w*\W{0,4})?(?:n\W{0,3})?$", re.IGNORECASE)
_PHONE_FR = re.compile(
    r"(?<![\w+])(?<!\d[ .\-])"
    r"(?:(?:\+|00)[ \u00a0]?33[ \u00a0.\-]?(?:\(0\)[ \u00a0.\-]?)?[1-9]|0[1-9])"
    r"(?:(?:[ \u00a0.\-]?\d){8}|(?:/\d{2}){4})"  # 06 12 34 56 78, 06.12…, 06 12 345 678; 06/12/34/56/78
    r"(?![ ./\-]?\d)(?!\w)"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)(?!\w)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

_UP = "A-ZÀ-ÖØ-Þ\u0152\u0178"
_LOW = "a-zß-öø-ÿ\u0153\u0100-\u017f"
_CAPWORD = rf"(?:[DLNdl]['’])?(?:[{_UP}][{_LOW}]+|[{_UP}]{{2,}})"
# A capitalised word: Jean-Pierre, N'Diaye, LEMAÎTRE, Saint-Rémy-de-Provence (bounded: no quadratic scans)
CAP = rf"{_CAPWORD}(?:-(?:{_CAPWORD}|[{_LOW}]{{1,3}}(?=-))){{0,4}}"
_PART = (
    r"(?:[dD]e|[dD]u|[dD]es|[lL]e|[lL]a|[dD]a|[dD]os|[dD]as|[vV]an|[vV]on|[dD]er|[dD]en|[dD]el|[dD]i|[eE]l|[bB]en)"
    r"[ \t]+|[dD]['’]"
)
NAME = rf"(?:{_PART})*{CAP}(?:[ \t]+(?:{_PART})*{CAP}){{0,2}}"
_TITLE = (
    r"(?:M\.|M(?=[ \t]+[A-ZÀ-Þ])|MM\.|Mr\.?|Mrs\.?|Mme\.?|Mmes|Mlle\.?|Melle|Me|Dr\.?|Pr\.?|"
    r"(?i:monsieur|madame|mademoiselle|messieurs|mesdames|docteur|professeur|ma[iî]tre))"
)
_BY_TITLE = re.compile(rf"(?<![\w.])(?P<title>{_TITLE})[ \t]+(?P<name>{NAME})")
_BY_TITLE_LOWER = re.compile(
    rf"(?<![\w.])(?i:m\.|mr\.?|mme\.?|mlle\.?|monsieur|madame)[ \t]+(?P<name>[{_LOW}]{{3,}}(?:-[{_LOW}]{{2,}})?)(?!\w)"
)
# Strong cues: what follows is a name if it is capitalised ("mon voisin Dupuis"). Weak cues ("c'est Parfait",
# "chez Darty"): only a first name, two capitalised words, or a surname in capitals ("chez GIRAUD").
_STRONG_INTRO = (
    r"je m['’]appelle|je me nomme|mon nom est|mon nom c['’]est|moi c['’]est|sign[ée]e?|de la part de|"
    r"client|cliente|propri[ée]taires?|locataire|g[ée]rante?|architecte|voisine?|fils|fille|mari|femme|famille|n[ée]e?|"
    r"[ée]pou(?:se|x)|conjointe?|m[èe]re|p[èe]re|fr[èe]re|s(?:œ|oe)ur|technicien(?:ne)?|interlocut(?:eur|rice)"
)
_WEAK_INTRO = (
    r"c['’]est|je suis|ici|chez|contact|contacter|contactez[- ]moi|coordonn[ée]es|demandez|demander|rappelez|"
    r"rappeler|appeler|appelez"
)
_BY_SELF_LOWER = re.compile(  # "je suis kevin": a lower-case first name, only right after a self-introduction
    rf"(?<!\w)(?i:je m['’]appelle|je suis|moi c['’]est|c['’]est|ici)(?:[ \t]+|[ \t]*\n[ \t]*)"
    rf"(?P<name>[{_LOW}]{{3,}}(?:-[{_LOW}]{{3,}})?)(?!\w)"
)
_BY_INTRO = re.compile(
    rf"(?<!\w)(?i:(?P<strong>{_STRONG_INTRO})|{_WEAK_INTRO})[ \t]*:?[ \t]*(?:,[ \t]*)?\n?[ \t]*(?P<name>{NAME})"
)
_CLOSING = (
    r"(?:bien )?cordialement|bien [àa] vous|salutations(?: distingu[ée]es)?|bonne (?:journ[ée]e|soir[ée]e)|"
    r"[àa] bient[ôo]t|amicalement|merci(?: d['’]avance| beaucoup| encore| bien)?"
)
_BY_CLOSING = re.compile(  # "Cordialement, Sophie Lefebvre", "Merci\nJean"; not "Merci. Pose prévue en mars"
    rf"(?<!\w)(?i:{_CLOSING})(?:[ \t]*,?[ \t]*|[ \t]*[,.!]?[ \t]*\n[ \t]*)"
    rf"(?P<name>{NAME}|[{_LOW}]{{3,}}(?=[ \t]*(?:[.!,]|$)))",
    re.MULTILINE,
)
_CAP_TOKEN = re.compile(rf"(?<![\w'’\-]){CAP}(?![\w'’])")
_AFTER_FIRST = re.compile(rf"[ \t]+(?P<rest>(?:{_PART})*{CAP}(?:[ \t]+{CAP})?)")
_UPPER_FIRST = re.compile(rf"(?<![\w'’\-])(?P<last>[{_UP}]{{2,}}(?:[-'’ ][{_UP}]{{2,}})?)[ \t]+(?P<first>{CAP})")
_BY_INITIAL = re.compile(rf"(?<![\w.])(?<!\d[ \t])(?P<name>[{_UP}]\.(?:-?[{_UP}]\.)?[ \t]*{CAP})(?![\w'’])")
_SURNAME_FIRST = re.compile(
    rf"(?:^|(?<=[\n(\-—–,:;]))[ \t]*(?P<name>(?P<last>{CAP})[ \t]+(?P<first>{CAP}))[ \t]*(?=$|[\n.,;)])", re.MULTILINE
)
_ROMAN = re.compile(r"[IVXLC]+")  # "Louis XV", "Napoléon III": a style, not a surname
_ROMAN_AFTER = re.compile(r"[ \t]+[IVXLC]+(?!\w)")
_SAINT_BEFORE = re.compile(r"(?:saint|sainte|st|ste)[ \t\-]*$", re.IGNORECASE)

_LEGAL_FORM = r"SARL|SAS|SASU|EURL|SCI|SNC|EARL|GAEC|SCOP|SCM|SELARL|EIRL|SA|EI|Ets\.?|[ÉE]tablissements"
_COMPANY_PREFIX = r"Entreprise|Soci[ée]t[ée]|Cabinet|Atelier|Agence"
_COMPANY_NAME = (
    rf"(?:{CAP}|\d{{1,3}}|&)(?:[ \t]+(?:(?:de|du|des|d['’]|l['’]|la|le|les|et|&)[ \t]*)?(?:{CAP}|\d{{1,3}})){{0,4}}"
)
_COMPANY = re.compile(
    rf"(?<![\w])(?:(?P<form>{_LEGAL_FORM}|{_COMPANY_PREFIX})[ \t]+(?P<name>(?:(?:de|du|des|d['’]|l['’]|la|les)[ \t]*)?"
    rf"{_COMPANY_NAME})|(?P<name2>{CAP}(?:[ \t]+{CAP}){{0,3}})[ \t]+(?P<form2>SARL|SAS|SASU|EURL|SCI|SNC|EARL))(?!\w)"
)

_NUMBER = r"\d{1,4}(?:[ \t]?(?:bis|ter|quater|[A-Da-d])(?![\w]))?"
_STRICT_WAYS = (
    r"rue|avenue|av\.?|boulevard|bd|bld|blvd|impasse|imp\.|quai|faubourg|fbg|ruelle|venelle|chauss[ée]e|esplanade|"
    r"parvis|promenade|rond-point|sentier|lotissement|r[ée]sidence|square|traverse|mont[ée]e|hameau|lieu-dit"
)
_LOOSE_WAYS = (
    r"all[ée]e|place|pl\.|route|rte|chemin|ch\.|cours|passage|voie|mail|port|pont|clos|domaine|cit[ée]|villa|sq\."
)
_ADDRESS = re.compile(
    rf"(?<![\w,.])(?P<number>{_NUMBER}),?[ \t]+(?P<way>(?i:{_STRICT_WAYS}|{_LOOSE_WAYS}))(?!\w)"
    rf"(?P<name>(?:[ \t]+(?:[\w'’\-]+))"
    rf"{{1,7}})"
)
_ADDRESS_STOP = re.compile(r"^(?:à|a|au|et|je|pour|avec|mais|qui|que|nous|vous|mon|ma|mes|est|sont|dans|chez|tel|tél)$")
_CITY_PARTICLE = r"(?:sur|sous|en|de|du|des|la|le|les|lès|lez|aux|au|d['’]|l['’])"
_POSTCODE = re.compile(
    rf"(?<![\w,.])(?:(?:0[1-9]|[1-8]\d|9[0-8])\d{{3}}|(?:0[1-9]|[1-8]\d|9[0-8])[ ]\d{{3}})[ \t]+"
    rf"(?P<city>{CAP}(?:[ \t\-]+(?:{_CITY_PARTICLE}[ \t\-]*)?{CAP}){{0,4}})"
    r"(?P<cedex>[ \t]+CEDEX(?:[ \t]+\d{1,2})?)?"
)
_POSTCODE_KEYWORD = re.compile(r"(?<!\w)(?i:code postal|cp)[ \t]*:?[ \t]*(?P<cp>\d{5})(?!\w)")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


def _keyword_before(text: str, start: int, pattern: re.Pattern[str], reach: int = 40) -> bool:
    return bool(pattern.search(text[max(0, start - reach) : start]))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def detect_emails(text: str) -> Iterator[_Span]:
    for m in _EMAIL.finditer(text):
        value = re.sub(r"\s*[(\[{]\s*(?:at|arobase)\s*[)\]}]\s*", "@", m.group(0), flags=re.I)
        value = re.sub(r"\s*[(\[{]\s*(?:dot|point)\s*[)\]}]\s*", ".", value, flags=re.I)
        yield _Span(m.start(), m.end(), "EMAIL", value.casefold(), RANKS["EMAIL"])


# Length of each country's IBAN (SWIFT IBAN registry, release 101).
IBAN_LENGTHS: Final[dict[str, int]] = {
    entry[:2]: int(entry[2:])
    for entry in (
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 "
        "ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 "
        "LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 "
        "PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 "
        "YE30"
    ).split()
}


def iban_is_valid(compact: str) -> bool:
    """ISO 13616: the country's length, then mod 97 of the rearranged number equals 1."""
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit() or not compact.isalnum():
        return False
    return int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return digits.isdigit() and total % 10 == 0


def siren_is_valid(digits: str) -> bool:
    return len(digits) == 9 and luhn_is_valid(digits)


def siret_is_valid(digits: str) -> bool:
    """Luhn over the 14 digits; La Poste's establishments (SIREN 356000000) use a digit sum multiple of 5."""
    if len(digits) != 14 or not digits.isdigit():
        return False
    return luhn_is_valid(digits) or (digits.startswith("356000000") and sum(map(int, digits)) % 5 == 0)


def french_vat_is_valid(compact: str) -> bool:
    """FR + a 2-character key + the SIREN; a numeric key is (12 + 3 × (SIREN mod 97)) mod 97."""
    key, siren = compact[2:4], compact[4:]
    if not compact.upper().startswith("FR") or not siren_is_valid(siren):
        return False
    return not key.isdigit() or int(key) == (12 + 3 * (int(siren) % 97)) % 97


def detect_ibans(text: str) -> Iterator[_Span]:
    """The longest prefix of an IBAN-shaped run that passes mod 97; a failing one only after "IBAN"/"RIB"."""
    for m in _IBAN.finditer(text):
        run = m.group(0)
        ends = [i + 1 for i, c in enumerate(run) if c.isalnum() and (i + 1 == len(run) or not run[i + 1].isalnum())]
        for end in reversed(ends):  # "FR76 3000 … 189 MERCI": the longest run of groups that passes
            compact = re.sub(r"[^A-Za-z0-9]", "", run[:end]).upper()
            if iban_is_valid(compact):
                yield _Span(m.start(), m.start() + end, "IBAN", compact, RANKS["IBAN"])
                break
        else:
            digits_run = re.match(r"[A-Za-z]{2}\d{2}(?:[ \-\u00a0]?[0-9A-Z]{4})+(?:[ \-\u00a0]?[0-9A-Z]{1,3})?", run)
            if (
                digits_run
                and len(_digits(digits_run.group(0))) >= 12
                and _keyword_before(text, m.start(), _IBAN_KEYWORD)
            ):
                compact = re.sub(r"[^A-Za-z0-9]", "", digits_run.group(0)).upper()
                yield _Span(m.start(), m.start() + digits_run.end(), "IBAN", compact, RANKS["IBAN"])


def detect_company_numbers(text: str) -> Iterator[_Span]:
    """SIRET (14 digits), SIREN (9) and French VAT numbers: checksum-valid, or announced by their keyword."""
    for m in _SIRET.finditer(text):
        compact = _digits(m.group(0))
        if siret_is_valid(compact) or _keyword_before(text, m.start(), _SIRET_KEYWORD, 20):
            yield _Span(m.start(), m.end(), "SIRET", compact, RANKS["SIRET"])
    for m in _SIREN.finditer(text):
        compact = _digits(m.group(0))
        if siren_is_valid(compact) or _keyword_before(text, m.start(), _SIREN_KEYWORD, 30):
            yield _Span(m.start(), m.end(), "SIREN", compact, RANKS["SIREN"])
    for m in _TVA.finditer(text):
        compact = re.sub(r"\s", "", m.group(0)).upper()
        if french_vat_is_valid(compact) or _keyword_before(text, m.start(), _TVA_KEYWORD, 25):
            yield _Span(m.start(), m.end(), "TVA", compact, RANKS["TVA"])


def normalise_phone(text: str) -> str:
    """One key per number: 06 12 34 56 78, 0033 6 12…, +33 (0)6 12… all give +33612345678."""
    raw = text.replace("(0)", "")
    digits = _digits(raw)
    if raw.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def detect_phones(text: str) -> Iterator[_Span]:
    for m in _PHONE_FR.finditer(text):
        yield _Span(m.start(), m.end(), "TELEPHONE", normalise_phone(m.group(0)), RANKS["TELEPHONE"])
    if not re.search(r"(?:\+|\b00)\d", text):
        return
    # International numbers (+32 2 123 45 67, 0041 22…): libphonenumber knows every country's plan. Imported on
    # the first text that has one: a container that never meets one never pays for it.
    import phonenumbers

    for match in phonenumbers.PhoneNumberMatcher(text, "FR", leniency=phonenumbers.Leniency.POSSIBLE):
        if match.raw_string.lstrip().startswith(("+", "00")):
            key = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            yield _Span(match.start, match.end, "TELEPHONE", key, RANKS["TELEPHONE"])


def detect_ips(text: str) -> Iterator[_Span]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            if pattern is _IPV6 and not re.search(r"[0-9A-Fa-f]", m.group(0)):
                continue
            try:
                address = ipaddress.ip_address(m.group(0))
            except ValueError:
                continue
            yield _Span(m.start(), m.end(), "IP", str(address), RANKS["IP"])


_PARTICLES: Final = frozenset({"de", "du", "des", "d'", "la", "le", "les", "l'", "au", "aux"})


def _bare(word: str) -> str:
    """A word without its elided article: l'Église -> Église, d'Arc -> Arc."""
    return re.sub(r"^[dDlL]['’]", "", word.strip("'’-"))


def _address_words(words: list[re.Match[str]], loose_way: bool) -> list[re.Match[str]]:
    """The street name's words, up to the first one that is no longer part of it ("… et je voudrais")."""
    kept: list[re.Match[str]] = []
    for m in words:
        word = m.group(0)
        folded = fold(_bare(word))
        if _ADDRESS_STOP.match(folded) or (word.isdigit() and not (kept and fold(kept[-1].group(0)) in _PARTICLES)):
            break
        capitalised_before = any(_bare(k.group(0))[:1].isupper() for k in kept)
        if (
            capitalised_before
            and word[:1].islower()
            and fold(word) not in _PARTICLES
            and not word.startswith(("d'", "l'"))
        ):
            break
        kept.append(m)
    while kept and fold(kept[-1].group(0)) in _PARTICLES:
        kept.pop()
    content = [k.group(0) for k in kept if fold(k.group(0)) not in _PARTICLES]
    if not content or (loose_way and not any(_bare(w)[:1].isupper() for w in content)):
        return []
    return kept


def _city_end(m: re.Match[str]) -> int | None:
    """Where "75011 Paris" ends: the city's words, less trailing ones that are not ("75011 Paris Merci")."""
    lex = lexicon()
    words = re.split(r"([ \t\-]+)", m.group("city"))
    while words and _is_word(words[-1].strip(), lex):
        words = words[:-2]
    if not words or (_is_word(words[0], lex) and fold(words[0]) not in {"la", "le", "les"}):
        return None
    return m.end() if m.group("cedex") else m.start("city") + len("".join(words))


def detect_addresses(text: str) -> Iterator[_Span]:
    for m in _ADDRESS.finditer(text):
        loose_way = re.fullmatch(_LOOSE_WAYS, m.group("way"), re.IGNORECASE) is not None
        words = list(re.finditer(r"[\w'’\-]+", m.group("name")))
        kept = _address_words(words, loose_way)
        if kept:
            end = m.start("name") + kept[-1].end()
            yield _Span(m.start(), end, "ADRESSE", _fold_key(text[m.start() : end]), RANKS["ADRESSE"])
    for m in _POSTCODE.finditer(text):
        if (city_end := _city_end(m)) is not None:
            key = _fold_key(text[m.start() : city_end])
            yield _Span(m.start(), city_end, "CODE_POSTAL", key, RANKS["CODE_POSTAL"])
    for m in _POSTCODE_KEYWORD.finditer(text):
        yield _Span(m.start("cp"), m.end("cp"), "CODE_POSTAL", m.group("cp"), RANKS["CODE_POSTAL"])


# ------------------------------------------------------------------------------------------------ names, companies
def _is_word(token: str, lex: Lexicon, common: bool = False) -> bool:
    folded = fold(token.strip("'’"))
    return folded in lex.words or folded in lex.acronyms or (common and folded in lex.common_words)


def is_first_name(token: str, lex: Lexicon | None = None) -> bool:
    lex = lex or lexicon()
    folded = fold(token)
    if re.match(r"(?:saint|sainte|st|ste)-", folded):  # Saint-Denis, Sainte-Marie: places
        return False
    return folded in lex.first_names or ("-" in folded and all(p in lex.first_names for p in folded.split("-")))


_TITLES: Final = frozenset({"m", "mme", "mlle", "mr", "mrs", "dr", "me", "mmes", "pr", "mm"})
_NAME_PARTICLES: Final = frozenset(
    {"de", "du", "des", "d'", "la", "le", "da", "dos", "das", "van", "von", "der", "den", "del", "di", "el", "ben"}
)


def _trim_name(text: str, start: int, end: int, keep_particles: bool) -> tuple[int, int] | None:
    """text[start:end] less its leading and trailing words that are not a name (titles, prepositions, trade words).

    A particle stays at the head when it belongs to the name: "Mme de La Fontaine" (after a title), "Le Goff".
    """
    lex = lexicon()
    tokens = [(m.start() + start, m.end() + start, m.group(0)) for m in re.finditer(r"\S+", text[start:end])]

    def droppable_head(token: str, left: int) -> bool:
        word = fold(token.rstrip("."))
        if word in _TITLES:
            return True
        if word in _NAME_PARTICLES and left > 1 and (keep_particles or token[0].isupper()):
            return False
        return _is_word(token.rstrip("."), lex)

    while tokens and droppable_head(tokens[0][2], len(tokens)):
        tokens.pop(0)
    while tokens and (_is_word(tokens[-1][2], lex) or fold(tokens[-1][2]) in _NAME_PARTICLES):
        tokens.pop()
    return (tokens[0][0], tokens[-1][1]) if tokens else None


def _person(text: str, start: int, end: int, keep_particles: bool = False) -> _Span | None:
    trimmed = _trim_name(text, start, end, keep_particles)
    if trimmed is None:
        return None
    s, e = trimmed
    name = text[s:e]
    return _Span(s, e, "PERSONNE", _fold_key(name), RANKS["PERSONNE"], person=name)


def detect_people(text: str) -> Iterator[_Span]:
    """Names announced by a title, an introduction or a closing formula, "Prénom Nom", "NOM Prénom", "Prénom"."""
    for m in _BY_TITLE.finditer(text):
        if (span := _person(text, m.start("name"), m.end("name"), keep_particles=True)) is not None:
            yield span
    for m in _BY_TITLE_LOWER.finditer(text):
        if not _is_word(m.group("name"), lexicon(), common=True):
            yield _Span(m.start("name"), m.end("name"), "PERSONNE", _fold_key(m.group("name")), RANKS["PERSONNE"],
                        person=m.group("name"))  # fmt: skip
    for pattern in (_BY_INTRO, _BY_CLOSING, _BY_SELF_LOWER):
        for m in pattern.finditer(text):
            yield from _introduced(text, m)
    yield from _first_name_people(text)
    yield from _initials_and_reversed(text)


def _initials_and_reversed(text: str) -> Iterator[_Span]:
    """ "P. Royer", "J.-P. Martin"; "Dumont Françoise" alone on its line (a signature)."""
    lex = lexicon()
    for m in _BY_INITIAL.finditer(text):
        surname = re.split(r"\.[ \t]*", m.group("name"))[-1]
        if not _is_word(surname, lex, common=True) and not is_first_name(surname, lex):
            yield _Span(m.start(), m.end(), "PERSONNE", _fold_key(m.group(0)), RANKS["PERSONNE"], person=m.group(0))
    for m in _SURNAME_FIRST.finditer(text):
        last, first = m.group("last"), m.group("first")
        if (
            is_first_name(first, lex)
            and fold(first) not in lex.ambiguous_first_names
            and not (_is_word(last, lex, common=True) or is_first_name(last, lex))
        ):
            yield _Span(m.start("name"), m.end("name"), "PERSONNE", _fold_key(m.group("name")), RANKS["PERSONNE"],
                        person=m.group("name"))  # fmt: skip


def _introduced(text: str, m: re.Match[str]) -> Iterator[_Span]:
    lex = lexicon()
    name = m.group("name")
    if name[:1].islower() and (not is_first_name(name) or fold(name) in lex.ambiguous_first_names):
        return
    span = _person(text, m.start("name"), m.end("name"))
    if span is None or _is_word(span.person.split()[0], lex, common=True):
        return
    words = span.person.split()
    weak = "strong" in m.re.groupindex and not m.group("strong")
    first_led = is_first_name(words[0], lex) and fold(words[0]) not in lex.ambiguous_first_names
    if not weak or first_led or len(words) >= 2 or (words[0].isupper() and len(words[0]) >= 3):
        yield span


def _first_name_people(text: str) -> Iterator[_Span]:
    lex = lexicon()
    for m in _CAP_TOKEN.finditer(text):
        token = m.group(0)
        if not is_first_name(token, lex) or _SAINT_BEFORE.search(text[max(0, m.start() - 7) : m.start()]):
            continue
        ambiguous = fold(token) in lex.ambiguous_first_names
        after = _AFTER_FIRST.match(text, m.end())
        if after is not None:
            rest = _surname_words(after.group("rest"), ambiguous, lex)
            if rest:
                end = after.start("rest") + len(rest)
                yield _Span(m.start(), end, "PERSONNE", _fold_key(text[m.start() : end]), RANKS["PERSONNE"],
                            person=text[m.start() : end])  # fmt: skip
                continue
        if not ambiguous and not _is_word(token, lex) and not _ROMAN_AFTER.match(text, m.end()):
            yield _Span(m.start(), m.end(), "PERSONNE", _fold_key(token), RANKS["PERSONNE"] - 1, person=token)
    for m in _UPPER_FIRST.finditer(text):
        if is_first_name(m.group("first"), lex) and not _is_word(m.group("last"), lex):
            yield _Span(m.start(), m.end(), "PERSONNE", _fold_key(m.group(0)), RANKS["PERSONNE"], person=m.group(0))


def _surname_words(rest: str, ambiguous: bool, lex: Lexicon) -> str:
    """The surname after a first name: its words up to the first one that is not a name ("Rose Poudré": none)."""
    kept: list[str] = []
    for word in rest.split():
        if fold(word) not in _NAME_PARTICLES and (_is_word(word, lex, common=ambiguous) or _ROMAN.fullmatch(word)):
            break
        kept.append(word)
    while kept and fold(kept[-1]) in _NAME_PARTICLES:
        kept.pop()
    return " ".join(kept)


def detect_companies(text: str) -> Iterator[_Span]:
    lex = lexicon()
    for m in _COMPANY.finditer(text):
        name = m.group("name") or m.group("name2") or ""
        words = [w for w in re.split(r"[ \t]+", name) if w]
        form = m.group("form") or m.group("form2") or ""
        generic = re.fullmatch(_COMPANY_PREFIX, form) is not None  # "Cabinet", "Atelier": a word before a name
        if not words or all(_is_word(w, lex, common=generic) or w.isdigit() or w == "&" for w in words):
            continue
        if fold(words[0].rstrip(".")) in {"m", "mme", "monsieur", "madame", "mr", "dr"}:
            continue
        yield _Span(m.start(), m.end(), "ENTREPRISE", _fold_key(m.group(0)), RANKS["ENTREPRISE"])


_DETECTORS: Final = (detect_emails, detect_ibans, detect_company_numbers, detect_phones, detect_ips, detect_addresses)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Brands, products and existing placeholders: no name or company is found inside them."""
    lex = lexicon()
    words = [(m.start(), m.end(), fold(m.group(0))) for m in _WORD.finditer(text)]
    spans = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    for i in range(len(words)):
        for n in range(min(lex.brand_words, len(words) - i), 0, -1):
            if tuple(w[2] for w in words[i : i + n]) in lex.brands:
                spans.append((words[i][0], words[i + n - 1][1]))
                break
    return spans


def _overlaps(span: _Span, taken: Iterable[tuple[int, int]]) -> bool:
    return any(span.start < e and s < span.end for s, e in taken)


def resolve(spans: Iterable[_Span]) -> list[_Span]:
    """Non-overlapping spans: the higher rank wins, then the longer span, then the earlier."""
    starts: list[int] = []  # the chosen spans, sorted (they never overlap)
    chosen: list[_Span] = []
    for span in sorted(spans, key=lambda s: (-s.rank, -(s.end - s.start), s.start)):
        i = bisect.bisect_left(starts, span.start)
        before_free = i == 0 or chosen[i - 1].end <= span.start
        after_free = i == len(chosen) or span.end <= chosen[i].start
        if span.end > span.start and before_free and after_free:
            starts.insert(i, span.start)
            chosen.insert(i, span)
    return chosen


# ------------------------------------------------------------------------------------------ structured data keys
def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


IDENTITY_KEYS: Final[dict[str, Kind]] = {
    **dict.fromkeys(("email", "mail", "courriel", "emailaddress", "adressemail", "adresseemail"), "EMAIL"),
    **dict.fromkeys(("phone", "telephone", "tel", "mobile", "portable", "fax", "phonenumber", "gsm"), "TELEPHONE"),
    **dict.fromkeys(
        (
            "name",
            "nom",
            "prenom",
            "firstname",
            "lastname",
            "fullname",
            "givenname",
            "familyname",
            "surname",
            "clientname",
            "customername",
            "contactname",
            "displayname",
            "particulier",
            "particuliername",
            "artisanname",
            "nomcomplet",
            "signature",
            "username",
        ),
        "PERSONNE",
    ),  # fmt: skip
    **dict.fromkeys(("company", "companyname", "raisonsociale", "societe", "entreprise", "businessname"), "ENTREPRISE"),
    **dict.fromkeys(
        (
            "address",
            "adresse",
            "street",
            "streetaddress",
            "rue",
            "addressline1",
            "addressline2",
            "voie",
            "adressepostale",
            "line1",
            "line2",
        ),
        "ADRESSE",
    ),  # fmt: skip
    **dict.fromkeys(
        ("postalcode", "postcode", "zip", "zipcode", "codepostal", "cp", "city", "ville", "commune", "locality"),
        "CODE_POSTAL",
    ),  # fmt: skip
    **dict.fromkeys(("siret", "siretnumber", "numerosiret"), "SIRET"),
    **dict.fromkeys(("siren", "sirennumber", "numerosiren", "rcs"), "SIREN"),
    **dict.fromkeys(("tvaintra", "tvaintracommunautaire", "vatnumber", "vat", "numerotva"), "TVA"),
    **dict.fromkeys(("iban", "rib", "bankaccount"), "IBAN"),
    **dict.fromkeys(("ip", "clientip", "ipaddress", "sourceip", "remoteaddr", "remoteip", "userip"), "IP"),
}


def identity_kind(key: str, keys: Mapping[str, Kind] = IDENTITY_KEYS) -> Kind | None:
    """The kind of personal datum a structured key holds (`client_ip`, `customerEmail`, `postal_code`, `phones`…)."""
    k = _key(key)
    for candidate in (k, k[:-1] if k.endswith("s") else k):
        if candidate in keys:
            return keys[candidate]
    for suffix, kind in _IDENTITY_SUFFIXES:
        if k.endswith(suffix) or k.endswith(suffix + "s"):
            return kind
    return None


_IDENTITY_SUFFIXES: Final[tuple[tuple[str, Kind], ...]] = (
    ("email", "EMAIL"), ("phone", "TELEPHONE"), ("telephone", "TELEPHONE"), ("siret", "SIRET"), ("iban", "IBAN"),
    ("ipaddress", "IP"), ("postalcode", "CODE_POSTAL"),
)  # fmt: skip


# ----------------------------------------------------------------------------------------------- the anonymizer
@dataclass
class _Alias:
    """A word of a known or met name, found alone later ("Martin" after "Jean Martin")."""

    placeholder: str
    capital_only: bool  # also an everyday word ("Durant", "Blanc"): a name only when written with a capital
    single: bool  # met as a one-word mention ("Mme Lefebvre"): the full name met later ("Sophie Lefebvre") takes it


@dataclass
class _Known:
    pattern: re.Pattern[str]
    kind: Kind
    key: str
    rank: int


Placed = tuple[_Span, str]  # a span and its placeholder


@dataclass
class ProjectAnonymizer:
    """One project's anonymizer: its placeholder map is shared by every text and data structure it rewrites.

    `identity_keys` (structured data): which keys hold a personal datum whole; IDENTITY_KEYS by default.
    """

    known: KnownIdentities = field(default_factory=KnownIdentities)
    identity_keys: Mapping[str, Kind] = field(default_factory=lambda: IDENTITY_KEYS)
    _placeholders: dict[tuple[Kind, str], str] = field(default_factory=dict, init=False, repr=False)
    _counters: dict[Kind, int] = field(default_factory=dict, init=False, repr=False)
    _aliases: dict[str, _Alias] = field(default_factory=dict, init=False, repr=False)
    _known_patterns: dict[tuple[Kind, str], _Known] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.identity_keys = {_key(k): v for k, v in self.identity_keys.items()}
        for name in self.known.names:
            self._learn_person(name, every_word=True)
            self._add_known(name, "PERSONNE", RANKS["KNOWN_PERSONNE"])
        for company in self.known.companies:
            self._learn_company(company)
        for email in self.known.emails:
            self._placeholder("EMAIL", _value_key("EMAIL", email))
        for phone in self.known.phones:
            self._placeholder("TELEPHONE", _value_key("TELEPHONE", phone))
        for address in self.known.addresses:
            self._add_known(address, "ADRESSE", RANKS["KNOWN_ENTREPRISE"])

    # ----------------------------------------------------------------------------------------------- public API
    def anonymize_text(self, text: str) -> Anonymized:
        placed = self._place(text)
        return Anonymized(_render(text, placed), tuple(_replacements(text, placed, ())))

    def anonymize_data(self, data: T) -> AnonymizedData[T]:
        for value, kind in self._strings(data):  # read everything first: a name met later counts everywhere
            if kind is None:
                self._place(value)
            else:
                self._whole_value(kind, value)
        replacements: list[Replacement] = []
        return AnonymizedData(cast(T, self._rewrite(data, (), replacements, None)), tuple(replacements))

    # ------------------------------------------------------------------------------------------------- internals
    def _placeholder(self, kind: Kind, key: str) -> str:
        if (kind, key) not in self._placeholders:
            self._counters[kind] = self._counters.get(kind, 0) + 1
            self._placeholders[(kind, key)] = f"[{kind}_{self._counters[kind]}]"
        return self._placeholders[(kind, key)]

    def _add_known(self, value: str, kind: Kind, rank: int) -> str:
        key = _fold_key(value)
        body = loose_pattern(value)
        if body and (kind, key) not in self._known_patterns:
            pattern = re.compile(rf"(?<![\w@.])(?i:{body})(?![\w@])")
            self._known_patterns[(kind, key)] = _Known(pattern, kind, key, rank)
        return self._placeholders.get((kind, key)) or self._placeholder(kind, key)

    def _learn_company(self, company: str) -> str:
        """A company's name, and each of its distinctive words alone ("Durant" of "Durant Peinture")."""
        lex = lexicon()
        placeholder = self._add_known(company, "ENTREPRISE", RANKS["KNOWN_ENTREPRISE"])
        words = [w.strip("'’.-") for w in re.split(r"[\s&,]+", company)]
        words = [w for w in words if len(w) >= 4 and not w.isdigit() and not _is_word(w, lex)]
        distinctive = [w for w in words if not _is_word(w, lex, common=True)] or words[
            -1:
        ]  # "Durant" of "Durant Peinture"
        for word in distinctive:
            self._aliases.setdefault(fold(word), _Alias(placeholder, _is_word(word, lex, common=True), single=False))
        return placeholder

    def _learn_person(self, name: str, every_word: bool = False) -> str:
        """The person's placeholder; teaches its surname (every word for a known name) to find it alone later."""
        lex = lexicon()
        key = _fold_key(name)
        words = [w for w in re.split(r"[\s\-'’.]+", name) if len(w) >= 2 and not _is_word(w, lex)]
        placeholder = (
            self._placeholders.get(("PERSONNE", key))
            or self._person_from_alias(words)
            or self._placeholder("PERSONNE", key)
        )
        self._placeholders[("PERSONNE", key)] = placeholder
        surnames = [w for w in words if not is_first_name(w, lex)] or words[-1:]
        for word in words if every_word else surnames:
            current = self._aliases.get(fold(word))
            if len(word) >= 3 and (current is None or (current.single and current.placeholder == placeholder)):
                capital_only = _is_word(word, lex, common=True)
                self._aliases[fold(word)] = _Alias(placeholder, capital_only, single=len(words) == 1)
        return placeholder

    def _person_from_alias(self, words: list[str]) -> str | None:
        """A name met as one word ("Mme Lefebvre") keeps its placeholder when met in full ("Sophie Lefebvre")."""
        for word in words:
            alias = self._aliases.get(fold(word))
            if alias and alias.placeholder.startswith("[PERSONNE_") and (alias.single or len(words) == 1):
                return alias.placeholder
        return None

    def _candidates(self, text: str, protected: list[tuple[int, int]]) -> list[_Span]:
        spans = [span for detector in _DETECTORS for span in detector(text)]
        guessed = [*detect_companies(text), *detect_people(text)]
        spans += [s for s in guessed if not _overlaps(s, protected)]
        for known in self._known_patterns.values():
            spans += [
                _Span(m.start(), m.end(), known.kind, known.key, known.rank) for m in known.pattern.finditer(text)
            ]
        return spans

    def _place(self, text: str) -> list[Placed]:
        """The spans to replace in `text`, each with its placeholder (numbered in reading order)."""
        protected = protected_spans(text)
        placed = [(span, self._assign(span)) for span in resolve(self._candidates(text, protected))]
        aliases = list(self._alias_spans(text))  # after the detectors: a surname this text taught counts before too
        extra = resolve([*(s for s, _ in placed), *(a for a in aliases if not _overlaps(a, protected))])
        found = {(s.start, s.end): p for s, p in placed}
        return [(s, found.get((s.start, s.end)) or self._aliases[s.key].placeholder) for s in extra]

    def _alias_spans(self, text: str) -> Iterator[_Span]:
        for m in _WORD.finditer(text):
            word = m.group(0)
            alias = self._aliases.get(fold(word))
            if alias is not None and (word[0].isupper() or not alias.capital_only):
                yield _Span(m.start(), m.end(), "PERSONNE", fold(word), RANKS["ALIAS"])

    def _assign(self, span: _Span) -> str:
        if span.kind == "PERSONNE":
            return self._learn_person(span.person or span.key)
        return self._placeholder(span.kind, span.key)

    def _strings(self, value: Any, kind: Kind | None = None) -> Iterator[tuple[str, Kind | None]]:
        if isinstance(value, str):
            yield value, kind
        elif isinstance(value, Mapping):
            for k, v in value.items():
                yield from self._strings(v, identity_kind(k, self.identity_keys) if isinstance(k, str) else None)
        elif isinstance(value, list | tuple):
            for v in value:
                yield from self._strings(v, kind)

    def _rewrite(self, value: Any, path: tuple[PathPart, ...], out: list[Replacement], kind: Kind | None) -> Any:
        if isinstance(value, str):
            if kind is not None and value.strip():
                placeholder = self._whole_value(kind, value)
                out.append(Replacement(kind, placeholder, value, 0, len(value), path))
                return placeholder
            placed = self._place(value)
            out += _replacements(value, placed, path)
            return _render(value, placed)
        if isinstance(value, Mapping):
            return {
                k: self._rewrite(
                    v, (*path, k), out, identity_kind(k, self.identity_keys) if isinstance(k, str) else None
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            rewritten = [self._rewrite(v, (*path, i), out, kind) for i, v in enumerate(value)]
            return rewritten if isinstance(value, list) else tuple(rewritten)
        return value

    def _whole_value(self, kind: Kind, value: str) -> str:
        """A string under an identity key: replaced whole, and remembered so that free text mentioning it matches."""
        if kind == "PERSONNE":
            return self._learn_person(value, every_word=True)
        if kind == "ENTREPRISE":
            return self._learn_company(value)
        if kind in ("ADRESSE", "CODE_POSTAL"):
            return self._add_known(value, kind, RANKS["KNOWN_ENTREPRISE"])
        return self._placeholder(kind, _value_key(kind, value))


def _render(text: str, placed: list[Placed]) -> str:
    out: list[str] = []
    cursor = 0
    for span, placeholder in placed:
        out += [text[cursor : span.start], placeholder]
        cursor = span.end
    return "".join(out) + text[cursor:]


def _replacements(text: str, placed: list[Placed], path: tuple[PathPart, ...]) -> Iterator[Replacement]:
    for span, placeholder in placed:
        kind = cast(Kind, placeholder[1 : placeholder.rindex("_")])
        yield Replacement(kind, placeholder, text[span.start : span.end], span.start, span.end, path)


def _value_key(kind: Kind, value: str) -> str:
    if kind == "TELEPHONE":
        return normalise_phone(value)
    if kind == "EMAIL":
        return value.strip().casefold()
    if kind in ("IBAN", "SIRET", "SIREN", "TVA"):
        return re.sub(r"[^A-Za-z0-9]", "", value).upper()
    if kind == "IP":
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            return value.strip()
    return _fold_key(value)


def anonymize_text(text: str, known: KnownIdentities | None = None) -> Anonymized:
    """One-shot: a fresh placeholder map. For a whole project, keep one `ProjectAnonymizer`."""
    return ProjectAnonymizer(known or KnownIdentities()).anonymize_text(text)


def anonymize_data(data: T, known: KnownIdentities | None = None) -> AnonymizedData[T]:
    """One-shot: a fresh placeholder map. For a whole project, keep one `ProjectAnonymizer`."""
    return ProjectAnonymizer(known or KnownIdentities()).anonymize_data(data)
