"""What a column's *name* says about the personal data it may hold.

The rules look at the head noun of the normalised name (its last words): ``customer_email`` is
an e-mail column, ``email_opt_in`` is not; ``first_name`` is a person's name, ``product_name``
is not.  ``username``/``login``/``handle`` are identifiers (keys), not person names.
"""

from __future__ import annotations

import re

from synthcust.schema.model import PIIKind

_NUM = r"(?:_?(?:number|num|no|nr|nbr))?"


def normalise_name(name: object) -> str:
    """``"firstName"``, ``"First Name"``, ``"IPAddress"`` -> ``first_name``, ..., ``ip_address``.

    >>> normalise_name("customerEMail")
    'customer_e_mail'
    """
    s = str(name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


# Each rule matches the *end* of the normalised name (the head noun), so ``email`` and
# ``customer_email`` match but ``email_opt_in``, ``phone_verified`` and ``emails_sent`` do not.
_NAME_RULES: tuple[tuple[PIIKind, re.Pattern[str]], ...] = tuple(
    (k, re.compile(p))
    for k, p in (
        (PIIKind.EMAIL, r"(?:^|_)(?:e_?mail|mail|emailaddress)(?:_?addr(?:ess)?)?$"),
        (PIIKind.IP_ADDRESS, r"(?:^|_)(?:ip(?:v[46])?(?:_?addr(?:ess)?)?|ipaddress|remote_addr)$"),
        (
            PIIKind.PHONE,
            r"(?:^|_)(?:phone|telephone|tel|mobile|cell|cellphone|fax|msisdn|phonenumber"
            rf"|mobilenumber|contact_number){_NUM}$",
        ),
        (PIIKind.CREDIT_CARD, rf"(?:^|_)(?:credit_?card|debit_?card|card|cc|pan|ccnum){_NUM}$"),
        (PIIKind.IBAN, rf"(?:^|_)(?:iban|bank_?account){_NUM}$"),
        (
            PIIKind.NATIONAL_ID,
            r"(?:^|_)(?:ssn|social_?security|national_?id|national_?insurance|nino|passport"
            r"|tax_?id|taxpayer_?id|tin|driver_?s?_?licen[cs]e|driving_?licen[cs]e"
            rf"|personal_?id|id_?card|nif|dni|cpf|bsn|personnummer|steuer_?id){_NUM}$",
        ),
        (
            PIIKind.DATE_OF_BIRTH,
            r"(?:^|_)(?:dob|d_o_b|birth_?date|date_?of_?birth|dateofbirth|birthday|birth_?dt"
            r"|birth_?day|born(?:_?on)?|geburtsdatum|date_?de_?naissance|date_?naissance)$",
        ),
        (
            PIIKind.POSTAL_CODE,
            r"(?:^|_)(?:zip|zip_?code|zip5|zip_?plus_?4|post_?code|postal_?code|postalcode"
            r"|plz|postleitzahl|code_?postal)$",
        ),
    )
)

_ADDRESS_HEADS = frozenset(
    {
        "address",
        "addr",
        "street",
        "streetaddress",
        "address1",
        "address2",
        "addr1",
        "addr2",
        "adresse",
        "anschrift",
        "strasse",
        "direccion",
        "indirizzo",
    }
)
# ``mac_address`` or ``web_address`` are not where a person lives.
_NOT_POSTAL_ADDRESS = frozenset(
    {
        "mac",
        "web",
        "url",
        "ip",
        "email",
        "mail",
        "server",
        "wallet",
        "contract",
        "memory",
        "host",
        "billing_email",
        "bitcoin",
        "eth",
    }
)
_PERSON_NAME_WORDS = frozenset(
    {
        "surname",
        "surnames",
        "forename",
        "forenames",
        "firstname",
        "lastname",
        "fullname",
        "givenname",
        "familyname",
        "middlename",
        "maidenname",
        "fname",
        "lname",
        "vorname",
        "nachname",
        "prenom",
    }
)
_PERSON_QUALIFIERS = frozenset(
    {
        "first",
        "last",
        "given",
        "family",
        "middle",
        "full",
        "maiden",
        "sur",
        "fore",
        "birth",
        "legal",
        "real",
        "customer",
        "cust",
        "client",
        "contact",
        "person",
        "holder",
        "cardholder",
        "owner",
        "member",
        "patient",
        "employee",
        "buyer",
        "recipient",
        "sender",
        "shipping",
        "billing",
        "guardian",
        "parent",
        "spouse",
        "beneficiary",
        "applicant",
        "passenger",
        "guest",
        "student",
        "subscriber",
        "donor",
        "payer",
        "payee",
        "traveler",
        "traveller",
        "agent",
        "rep",
        "manager",
        "consignee",
        "addressee",
        "account_holder",
    }
)
#: First-name-only / last-name-only markers, so fakes of ``first_name`` are first names.
FIRST_NAME_WORDS = frozenset(
    {"first", "given", "fore", "forename", "firstname", "givenname", "fname", "vorname", "prenom"}
)
LAST_NAME_WORDS = frozenset(
    {
        "last",
        "sur",
        "surname",
        "family",
        "lastname",
        "familyname",
        "lname",
        "nachname",
        "maiden",
        "maidenname",
    }
)
#: Name tokens that say a column holds something other than people.
NON_PERSON_TOKENS = frozenset(
    {
        "product",
        "item",
        "sku",
        "company",
        "business",
        "org",
        "organisation",
        "organization",
        "brand",
        "category",
        "city",
        "town",
        "country",
        "state",
        "region",
        "province",
        "county",
        "district",
        "street",
        "store",
        "shop",
        "merchant",
        "vendor",
        "supplier",
        "campaign",
        "channel",
        "segment",
        "plan",
        "tier",
        "title",
        "description",
        "desc",
        "file",
        "path",
        "url",
        "host",
        "domain",
        "team",
        "department",
        "dept",
        "job",
        "role",
        "occupation",
        "event",
        "page",
        "model",
        "make",
        "color",
        "colour",
        "tag",
        "label",
        "status",
        "type",
        "source",
        "medium",
        "device",
        "browser",
        "os",
        "language",
        "currency",
        "bank",
        "school",
        "university",
        "employer",
        "hotel",
        "restaurant",
        "airport",
        "airline",
        "venue",
        "location",
        "place",
        "neighborhood",
        "neighbourhood",
        "area",
        "zone",
        "course",
        "project",
        "group",
        "class",
        "genre",
        "user",
        "username",
        "login",
        "handle",
        "account",
    }
)


def match_name(name: object) -> tuple[PIIKind | None, str]:
    """The PII kind a column *name* announces, and the normalised name that matched.

    ``username``/``login``/``handle`` are identifiers (keys), not person names: they are not
    flagged by name (their values are, if they are e-mail addresses).

    >>> match_name("Customer E-Mail")
    (<PIIKind.EMAIL: 'email'>, 'customer_e_mail')
    >>> match_name("product_name")
    (None, 'product_name')
    """
    n = normalise_name(name)
    toks = n.split("_") if n else []
    if not toks or toks[0] in ("is", "has", "n", "num", "count", "nb"):
        return None, n
    for kind, pat in _NAME_RULES:
        if pat.search(n):
            return kind, n
    last = toks[-1]
    prev = toks[-2] if len(toks) > 1 else None
    if last in _PERSON_NAME_WORDS or (last == "name" and prev in ("first", "last", "full")):
        return PIIKind.PERSON_NAME, n
    if last in ("name", "names", "nm") and (prev is None or prev in _PERSON_QUALIFIERS):
        return PIIKind.PERSON_NAME, n
    if len(toks) >= 2 and toks[0] == "name" and toks[1] in ("first", "last", "full", "given"):
        return PIIKind.PERSON_NAME, n
    # address_line_1, street_address, billing_address, addr2 ... but not mac_address
    head = [t for t in toks if not t.isdigit()]
    if head and head[-1] == "line" and len(head) >= 2:
        head = head[:-1]
    if head and head[-1] in _ADDRESS_HEADS:
        before = head[-2] if len(head) > 1 else None
        if before not in _NOT_POSTAL_ADDRESS:
            return PIIKind.ADDRESS, n
    return None, n
