"""Names and descriptions of persona cards, from their defining traits by fixed rules.

A name reads like one a marketer would give a segment: up to two adjectives and a noun in
title case ("Loyal Big-Spending Families", "Young Single Students"), built from the card's
distinguishing traits in order of effect size. A lexicon maps column names (``income``,
``tenure``, ``days_since_last_order``, ``churned`` ...) and common category levels
(``retired``, ``Husband``, ``Bachelors`` ...) to words; a category of a descriptive column
(channel, region, tier, plan ...) lends its level ("Gold-Tier", "App"). Traits the lexicon
cannot put into words are left out of the name (no column dumps such as ``high-fnlwgt``).

Names are deterministic (same cards, same names) and unique within a set of cards: when two
cards would share a name, each takes its next defining word; a last tie is broken by an ordinal
word by size ("Second", "Third"), never by the persona id.

>>> from synthcust.personas.traits import Trait
>>> t = Trait("income", "numeric", None, 90.0, 50.0, 88.0, 49.0, 1.8, 1.1, 9.0, 1e-9, "t", True)
>>> words(t)
('Affluent', 'High Earners')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from synthcust.personas.traits import Trait

if TYPE_CHECKING:  # annotations only: describe.py imports this module
    from synthcust.personas.describe import PersonaCard

__all__ = ["name_cards", "words"]

# numeric columns: (pattern on the column name, adjective when higher, when lower,
# noun when higher, when lower); first match wins
_NUMERIC: tuple[tuple[str, str | None, str | None, str | None, str | None], ...] = (
    (r"^age$|^age_|_age$|\bage\b", "Senior", "Young", "Seniors", "Young Adults"),
    (r"income|salary|wealth|earning", "Affluent", "Budget", "High Earners", None),
    (r"price_?sens|price_?elastic", "Price-Sensitive", "Price-Relaxed", "Bargain Hunters", None),
    (r"discount|coupon|promo", "Deal-Seeking", "Full-Price", "Deal Seekers", None),
    (r"return", "Returns-Prone", "Low-Return", None, None),
    (r"order_?value|aov|basket|ticket", "Big-Basket", "Small-Basket", None, None),
    (r"capital.?gain|invest|dividend", "Investing", None, "Investors", None),
    (r"spend|revenue|amount|monetary|sales|balance|charge|value",
     "Big-Spending", "Light-Spending", "Big Spenders", None),
    (r"days_?since|recency|last_", "Lapsed", "Recently Active", None, None),
    (r"signup|joined|first_|created|registration", "Newer", "Long-Standing", None, None),
    (r"tenure|seniority|member_?since|months_?active", "Loyal", "New", "Loyalists",
     "Newcomers"),
    (r"pdays|previous|contacts|calls|campaign", "Often-Contacted", "Rarely-Contacted", None,
     None),
    (r"orders|frequency|purchases|visits|transactions|sessions|count", "Frequent",
     "Occasional", "Regulars", "Occasional Shoppers"),
    (r"satisf|rating|score|nps|review", "Satisfied", "Dissatisfied", None, None),
    (r"household|family|children|kids|dependents", "Family", "Single-Person", "Families",
     "Singles"),
    (r"duration|minutes|seconds|time_?spent", "Engaged", "Brief-Contact", None, None),
    (r"hours", "Full-Time", "Part-Time", "Full-Timers", "Part-Timers"),
    (r"education.?num|school", "Highly Educated", "Less Educated", None, None),
)
# yes/no columns: (pattern, adjective when true, when false, noun when true)
_BOOLEAN: tuple[tuple[str, str | None, str | None, str | None], ...] = (
    (r"churn|attrit|exited|cancel|lapsed", "Churning", "Retained", "Churners"),
    (r"newsletter|opt_?in|subscri", "Subscribed", "Unsubscribed", None),
    (r"default", "Defaulting", None, None),
    (r"housing|mortgage", "Mortgaged", "Mortgage-Free", "Homeowners"),
    (r"loan|credit", "Borrowing", "Loan-Free", None),
    (r"^y$|response|convert|accepted", "Responsive", "Unresponsive", None),
    (r"senior", "Senior", None, "Seniors"),
    (r"partner|married", "Partnered", "Unpartnered", None),
    (r"dependents|children|kids", "Family", "Child-Free", "Families"),
    (r"paperless|online|digital|app", "Digital", "Offline", None),
)
# category levels that read as words whatever the column: level -> (adjective, noun)
_LEVELS: dict[str, tuple[str | None, str | None]] = {
    "retired": ("Retired", "Retirees"), "student": ("Student", "Students"),
    "blue-collar": ("Blue-Collar", "Workers"), "management": (None, "Managers"),
    "technician": (None, "Technicians"), "admin.": (None, "Office Staff"),
    "services": (None, "Service Workers"), "entrepreneur": (None, "Entrepreneurs"),
    "self-employed": ("Self-Employed", None), "unemployed": ("Jobseeking", None),
    "housemaid": (None, "Housekeepers"), "exec-managerial": (None, "Executives"),
    "prof-specialty": (None, "Professionals"), "craft-repair": (None, "Tradespeople"),
    "adm-clerical": (None, "Clerical Staff"), "sales": (None, "Salespeople"),
    "other-service": (None, "Service Workers"), "machine-op-inspct": (None, "Operators"),
    "transport-moving": (None, "Drivers"), "handlers-cleaners": (None, "Manual Workers"),
    "farming-fishing": (None, "Farmers"), "tech-support": (None, "Tech Workers"),
    "protective-serv": (None, "Security Staff"), "married-civ-spouse": ("Married", None),
    "married": ("Married", None), "never-married": ("Single", None), "single": ("Single", None),
    "divorced": ("Divorced", None), "widowed": ("Widowed", None), "husband": ("Married", "Men"),
    "wife": ("Married", "Women"), "own-child": ("Young", "Dependents"),
    "not-in-family": ("Independent", None), "unmarried": ("Single", None),
    "male": (None, "Men"), "female": (None, "Women"), "bachelors": ("Graduate", None),
    "masters": ("Postgraduate", None), "doctorate": ("Postgraduate", None),
    "prof-school": ("Postgraduate", None), "hs-grad": ("High-School", None),
    "some-college": ("College-Going", None), "tertiary": ("University-Educated", None),
    "secondary": ("Secondary-Educated", None), "primary": ("Primary-Educated", None),
    "cellular": ("Mobile", None), "telephone": ("Landline", None),
    "success": ("Previously Converted", None), "failure": ("Previously Declined", None),
    "month-to-month": ("Month-to-Month", None), "two year": ("Contracted", None),
    "one year": ("Contracted", None), "fiber optic": ("Fiber", None),
}
# descriptive columns whose level lends the name a word: (pattern, suffix after the level)
_DESCRIPTIVE = re.compile(
    r"channel|region|city|country|state|segment|tier|plan|device|platform|source|category|"
    r"brand|membership|language|contract|internet|payment", re.I
)
_SUFFIXED = re.compile(r"tier|plan|membership", re.I)
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}
_ORDINALS = ("Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth",
             "Tenth", "Eleventh", "Twelfth")


def _title(text: str) -> str:
    return " ".join(w if any(ch.isupper() for ch in w) else w[:1].upper() + w[1:]
                    for w in text.split())


def words(t: Trait) -> tuple[str | None, str | None] | None:
    """(adjective, noun) a trait lends a name (either may be None); None when it lends none.

    Only what a persona *is* names it: a level the persona has less often than usual, or a
    missing value, lends nothing.
    """
    if t.kind == "missing":
        return None
    if t.kind == "numeric":
        for pat, hi, lo, nhi, nlo in _NUMERIC:
            if re.search(pat, t.column, re.I):
                return (hi, nhi) if t.higher else (lo, nlo)
        return None
    if not t.higher or t.level is None or t.level.startswith("("):
        return None
    lev = t.level.strip()
    low = lev.lower()
    if low in _TRUE or low in _FALSE:
        for pat, yes, no, noun in _BOOLEAN:
            if re.search(pat, t.column, re.I):
                return (yes, noun) if low in _TRUE else (no, None)
        return None
    if low in _LEVELS:
        return _LEVELS[low]
    if _DESCRIPTIVE.search(t.column) and len(lev) <= 20 and re.fullmatch(r"[\w .+&/-]+", lev):
        word = _title(lev.replace("_", " "))
        m = _SUFFIXED.search(t.column)
        return (f"{word}-{m.group(0).title()}" if m else word), None
    return None


def _name(adjs: list[str], noun: str | None) -> str:
    return " ".join([*adjs, noun or "Customers"])


def _parts(card: PersonaCard) -> list[tuple[str | None, str | None]]:
    out = []
    for t in card.traits:
        if not t.distinguishing:
            break
        w = words(t)
        if w is not None and (w[0] or w[1]):
            out.append(w)
    return out


def _overlaps(adj: str, noun: str | None) -> bool:
    """Whether the adjective repeats the noun ("Big-Spending Big Spenders")."""
    return noun is not None and re.split(r"[- ]", adj.lower())[0] in noun.lower().split()


def _build(parts: list[tuple[str | None, str | None]], n_adj: int) -> str:
    adjs: list[str] = []
    noun: str | None = None
    for adj, nn in parts:
        if nn and noun is None:
            noun = nn
            adjs = [a for a in adjs if not _overlaps(a, noun)]
            if adj and adj not in adjs and len(adjs) < n_adj and not _overlaps(adj, nn):
                adjs.append(adj)
        elif adj and adj not in adjs and len(adjs) < n_adj and not _overlaps(adj, noun):
            adjs.append(adj)
        if len(adjs) >= n_adj and noun:
            break
    return _name(adjs, noun) if adjs or noun else "Mainstream Customers"


def name_cards(cards: list[PersonaCard], top: int) -> None:
    """Set ``name`` and ``description`` of every card (in place); names are unique.

    ``top`` is kept for compatibility (the description lists the top three traits).
    """
    parts = [_parts(c) for c in cards]
    depth = [2] * len(cards)
    names = [_build(p, 2) for p in parts]
    for _ in range(3):  # colliding names take one more defining word each
        dup = {n for n in names if names.count(n) > 1}
        if not dup:
            break
        for i, n in enumerate(names):
            if n in dup:
                depth[i] += 1
                names[i] = _build(parts[i], depth[i])
    seen: dict[str, int] = {}
    for i, c in enumerate(cards):  # cards come largest first: later twins get an ordinal
        n = names[i]
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            n = f"{n}, {_ORDINALS[min(seen[n] - 2, len(_ORDINALS) - 1)]} Group"
        c.name = n
        dist = c.highlights(3)
        lead = f"{c.share:.0%} of customers ({c.size:,})."
        if dist:
            c.description = lead + " Compared with everyone: " + "; ".join(
                t.sentence() for t in dist) + "."
        else:
            c.description = lead + " No trait sets them clearly apart from the population."
