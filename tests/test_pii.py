"""Tests of synthcust.privacy.pii: detection, policies, fakes, report."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from synthcust.exceptions import PIIError
from synthcust.privacy import (
    DEFAULT_POLICIES,
    FakeSpec,
    PIIPlan,
    PIIReport,
    apply_pii,
    detect_pii,
    detect_pii_kinds_in_text,
    fake_columns,
)
from synthcust.privacy.pii import iban_valid, luhn_valid
from synthcust.privacy.pii_names import match_name
from synthcust.schema.model import Column, Kind, PIIKind, PIIPolicy, Schema

N = 200


# --------------------------------------------------------------------------------------------
# independent reference implementations used to build test data
# --------------------------------------------------------------------------------------------


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    total = sum(
        d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(digits)
    )
    return total % 10 == 0


def make_card(rng: np.random.Generator, prefix: str = "4", length: int = 16) -> str:
    body = prefix + "".join(str(d) for d in rng.integers(0, 10, length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError  # pragma: no cover


def break_one_digit(number: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(0, len(number)))
    return number[:i] + str((int(number[i]) + int(rng.integers(1, 10))) % 10) + number[i + 1 :]


def make_iban(rng: np.random.Generator, country: str = "DE", length: int = 22) -> str:
    bban = "".join(str(d) for d in rng.integers(0, 10, length - 4))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def group4(s: str) -> str:
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


@pytest.fixture(scope="module")
def fk() -> Faker:
    f = Faker("en_US")
    f.seed_instance(1234)
    return f


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def neutral_values(kind: str, fk: Faker, rng: np.random.Generator) -> list:
    gb = Faker("en_GB")
    gb.seed_instance(7)
    if kind == "email":
        return [fk.email() for _ in range(N)]
    if kind == "phone":
        formats = [
            "+1 (415) 555-{:04d}",
            "+44 20 7946 {:04d}",
            "020 7946 {:04d}",
            "(030) 1234-{:04d}",
            "+49 30 1234{:04d}",
            "555.867.{:04d}",
        ]
        return [formats[i % len(formats)].format(int(rng.integers(0, 10000))) for i in range(N)]
    if kind == "person_name":
        return [fk.name() for _ in range(N)]
    if kind == "address":
        return [fk.street_address() for _ in range(N)]
    if kind == "postal_code":
        return [gb.postcode() for _ in range(N)]
    if kind == "credit_card":
        return [make_card(rng, p, ln) for p, ln in [("4", 16), ("51", 16), ("37", 15)] * (N // 3)]
    if kind == "credit_card_spaced":
        return [group4(make_card(rng)) for _ in range(N)]
    if kind == "iban":
        return [group4(make_iban(rng)) if i % 2 else make_iban(rng, "GB", 22) for i in range(N)]
    if kind == "ssn":
        return [
            f"{a:03d}-{g:02d}-{s:04d}"
            for a, g, s in zip(
                rng.integers(1, 666, N),
                rng.integers(1, 100, N),
                rng.integers(1, 10000, N),
                strict=True,
            )
        ]
    if kind == "ipv4":
        return [".".join(str(x) for x in rng.integers(0, 256, 4)) for _ in range(N)]
    if kind == "ipv6":
        return [fk.ipv6() for _ in range(N)]
    if kind == "text":
        return [
            fk.sentence(nb_words=12) + (f" Reach me at {fk.email()}." if i % 10 == 0 else "")
            for i in range(N)
        ]
    raise AssertionError(kind)


# --------------------------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("email", PIIKind.EMAIL),
        ("phone", PIIKind.PHONE),
        ("person_name", PIIKind.PERSON_NAME),
        ("address", PIIKind.ADDRESS),
        ("postal_code", PIIKind.POSTAL_CODE),
        ("credit_card", PIIKind.CREDIT_CARD),
        ("credit_card_spaced", PIIKind.CREDIT_CARD),
        ("iban", PIIKind.IBAN),
        ("ssn", PIIKind.NATIONAL_ID),
        ("ipv4", PIIKind.IP_ADDRESS),
        ("ipv6", PIIKind.IP_ADDRESS),
        ("text", PIIKind.TEXT_WITH_PII),
    ],
)
def test_detects_each_kind_from_values_under_a_neutral_name(data, expected, fk, rng):
    df = pd.DataFrame({"c1": neutral_values(data, fk, rng)})
    found = detect_pii(df)
    assert found["c1"].kind is expected, found
    assert 0 < found["c1"].confidence <= 1
    assert "sampled values" in found["c1"].evidence


def test_luhn_valid_numbers_stored_as_integers_are_cards(rng):
    df = pd.DataFrame({"c2": [int(make_card(rng)) for _ in range(N)]})
    assert detect_pii(df)["c2"].kind is PIIKind.CREDIT_CARD


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("Email", ["ann@example.com", "bob@example.org"] * 20, PIIKind.EMAIL),
        ("customerEmailAddress", ["ann@example.com", "x"] * 20, PIIKind.EMAIL),
        ("phone", [4155550000 + i for i in range(40)], PIIKind.PHONE),
        ("mobile_number", [f"0770090{i:04d}" for i in range(40)], PIIKind.PHONE),
        ("zip", [2134 + i for i in range(40)], PIIKind.POSTAL_CODE),
        ("postcode", [f"{10000 + i}" for i in range(40)], PIIKind.POSTAL_CODE),
        ("ssn", [f"{123456789 + i}" for i in range(40)], PIIKind.NATIONAL_ID),
        ("passport_no", [f"X{8000000 + i}" for i in range(40)], PIIKind.NATIONAL_ID),
        ("tax_id", [f"{900000 + i * 7}" for i in range(40)], PIIKind.NATIONAL_ID),
        ("first_name", ["Ann", "Bob", "Chloe", "Dev", "Eve"] * 8, PIIKind.PERSON_NAME),
        ("surname", [f"Smith{chr(97 + i % 26)}" for i in range(40)], PIIKind.PERSON_NAME),
        ("customer_name", [f"Ann Lee{chr(97 + i % 26)}" for i in range(40)], PIIKind.PERSON_NAME),
        ("address_line_1", [f"{i} High St" for i in range(40)], PIIKind.ADDRESS),
        ("ip_address", [f"10.0.0.{i}" for i in range(40)], PIIKind.IP_ADDRESS),
        ("dob", pd.date_range("1950-01-01", periods=40, freq="90D"), PIIKind.DATE_OF_BIRTH),
        ("birth_date", [f"19{50 + i}-03-0{1 + i % 9}" for i in range(40)], PIIKind.DATE_OF_BIRTH),
        ("card_number", [f"4000 0000 0000 {i:04d}" for i in range(40)], PIIKind.CREDIT_CARD),
        ("iban", [f"DE00{i:018d}" for i in range(40)], PIIKind.IBAN),
    ],
)
def test_detects_from_column_names(name, values, expected):
    found = detect_pii(pd.DataFrame({name: values}))
    assert name in found, f"{name} not flagged"
    assert found[name].kind is expected
    assert "name matches" in found[name].evidence


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("product_name", ["Soft Cotton Shirt", "Blue Denim Jacket", "Linen Trousers"] * 20),
        ("company_name", ["Acme Corp", "Globex Inc", "Initech Ltd", "Umbrella Plc"] * 15),
        ("file_name", ["report.pdf", "photo.jpg", "notes.txt"] * 20),
        ("username", [f"shopper{i}" for i in range(60)]),
        ("email_opt_in", [True, False] * 30),
        ("emails_sent", list(range(60))),
        ("phone_verified", [0, 1] * 30),
        ("mobile", ["iOS", "Android", "Web"] * 20),
        ("name", ["Gold", "Silver", "Bronze"] * 20),
        ("zip_count", list(range(60))),
        ("birth_year", list(range(1950, 2010))),
    ],
)
def test_names_that_are_not_pii(name, values):
    assert detect_pii(pd.DataFrame({name: values})) == {}


def test_username_is_an_identifier_unless_it_holds_emails(fk):
    assert match_name("username") == (None, "username")
    emails = pd.DataFrame({"username": [fk.email() for _ in range(50)]})
    assert detect_pii(emails)["username"].kind is PIIKind.EMAIL


def test_no_false_positives_on_a_realistic_customer_table(fk, rng):
    n = 500
    cities = [
        "New York",
        "London",
        "Paris",
        "San Francisco",
        "Berlin",
        "Los Angeles",
        "Madrid",
        "Rio de Janeiro",
        "Hong Kong",
        "Tel Aviv",
    ]
    words = [
        "organic",
        "cotton",
        "t-shirt",
        "slim",
        "fit",
        "soft",
        "durable",
        "lightweight",
        "waterproof",
        "jacket",
        "in",
        "five",
        "colours",
        "machine",
        "washable",
        "with",
        "pockets",
        "made",
        "from",
        "recycled",
        "wool",
        "size",
        "M",
        "L",
        "XL",
        "pack",
        "of",
        "3",
        "12",
        "250",
        "ml",
    ]
    df = pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in range(n)],
            "account_no": np.arange(10**9, 10**9 + n),
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10.5, 0.5, n).round(2),
            "city": rng.choice(cities, n),
            "country": rng.choice(["United States", "United Kingdom", "Germany", "France"], n),
            "gender": rng.choice(["F", "M", "X"], n),
            "segment": rng.choice(["Premium Plus", "Value Seeker", "New Customer"], n),
            "signup_date": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
            "last_order": [
                f"2024-{m:02d}-{d:02d}"
                for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 29, n), strict=True)
            ],
            "orders": rng.poisson(4, n),
            "spend": rng.gamma(2, 60, n).round(2),
            "spend_text": [f"{x:.2f}" for x in rng.gamma(2, 6e5, n)],
            "big_amount": rng.integers(10**12, 10**16, n),
            "uuid": [fk.uuid4() for _ in range(n)],
            "churned": rng.random(n) < 0.2,
            "score": rng.random(n),
            "product_description": [
                " ".join(rng.choice(words, int(rng.integers(6, 14)))).capitalize() + "."
                for _ in range(n)
            ],
            "sku": [f"SKU-{rng.integers(100, 999)}-{rng.integers(1000, 9999)}" for _ in range(n)],
            "time": [
                f"{h:02d}:{m:02d}:00"
                for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)
            ],
            "version": [f"{a}.{b}.{c}" for a, b, c in rng.integers(0, 20, (n, 3))],
            "barcode": [str(x) for x in rng.integers(10**12, 10**13, n)],
        }
    )
    assert detect_pii(df) == {}


def test_changing_one_digit_breaks_the_card(rng):
    cards = [make_card(rng) for _ in range(N)]
    broken = [break_one_digit(c, rng) for c in cards]
    assert luhn_valid(pd.Series(cards)).all()
    assert not luhn_valid(pd.Series(broken)).any()
    assert detect_pii(pd.DataFrame({"c1": cards}))["c1"].kind is PIIKind.CREDIT_CARD
    assert detect_pii(pd.DataFrame({"c1": broken})) == {}
    as_int = pd.DataFrame({"c1": [int(b) for b in broken]})
    assert detect_pii(as_int) == {}


def test_iban_check_digits(rng):
    ibans = [make_iban(rng) for _ in range(N)]
    wrong = [f"{i[:2]}{(int(i[2:4]) + 1) % 100:02d}{i[4:]}" for i in ibans]
    assert iban_valid(pd.Series(["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"])).all()
    assert iban_valid(pd.Series(ibans)).all()
    assert not iban_valid(pd.Series(wrong)).any()
    assert detect_pii(pd.DataFrame({"c1": ibans}))["c1"].kind is PIIKind.IBAN
    assert detect_pii(pd.DataFrame({"c1": wrong})) == {}


def test_ssn_invalid_areas_are_not_flagged(rng):
    areas = np.concatenate(
        [np.zeros(N // 3, int), np.full(N // 3, 666), rng.integers(900, 1000, N - 2 * (N // 3))]
    )
    bad = [
        f"{a:03d}-{g:02d}-{s:04d}"
        for a, g, s in zip(areas, rng.integers(1, 100, N), rng.integers(1, 10000, N), strict=True)
    ]
    assert detect_pii(pd.DataFrame({"c1": bad})) == {}
    shares = detect_pii_kinds_in_text(pd.Series([f"my ssn is {b}" for b in bad]))
    assert shares[PIIKind.NATIONAL_ID] == 0


def test_ip_octets_over_255_are_not_ips(rng):
    bad = [f"{a}.1.2.3" for a in rng.integers(256, 999, N)]
    assert detect_pii(pd.DataFrame({"c1": bad})) == {}


def test_text_kind_shares():
    s = pd.Series(
        [
            "write to jo.doe@mail.co.uk today",
            "call +44 20 7946 0958",
            "card 4111 1111 1111 1111",
            "card 4111 1111 1111 1112 (wrong)",
            "pay to DE89 3704 0044 0532 0130 00",
            "from 192.168.0.12.",
            "ssn 123-45-6789",
            "nothing to see on 2024-01-15 at 10:30",
            None,
        ]
    )
    shares = detect_pii_kinds_in_text(s)
    assert set(shares) == {
        PIIKind.EMAIL,
        PIIKind.PHONE,
        PIIKind.CREDIT_CARD,
        PIIKind.IBAN,
        PIIKind.NATIONAL_ID,
        PIIKind.IP_ADDRESS,
    }
    for kind in (
        PIIKind.EMAIL,
        PIIKind.PHONE,
        PIIKind.CREDIT_CARD,
        PIIKind.IBAN,
        PIIKind.NATIONAL_ID,
        PIIKind.IP_ADDRESS,
    ):
        assert shares[kind] == pytest.approx(1 / 8), kind
    assert detect_pii_kinds_in_text(pd.Series([], dtype="str"))[PIIKind.EMAIL] == 0.0


def test_detection_is_reproducible_and_samples(fk):
    df = pd.DataFrame({"c1": [fk.email() for _ in range(300)]})
    a = detect_pii(df, sample_size=50, random_state=3)
    assert a == detect_pii(df, sample_size=50, random_state=3)
    assert "of 50 sampled values" in a["c1"].evidence


# --------------------------------------------------------------------------------------------
# policies
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def people(fk, rng) -> pd.DataFrame:
    n = 60
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "email": [fk.unique.email() for _ in range(n)],
            "phone": [f"+1 415 555 {1000 + i}" for i in range(n)],
            "full_name": [fk.name() for _ in range(n)],
            "street_address": [fk.street_address() for _ in range(n)],
            "zip": [f"{10000 + 37 * i}" for i in range(n)],
            "card_number": [make_card(rng) for _ in range(n)],
            "iban": [make_iban(rng) for _ in range(n)],
            "ssn": [f"{100 + i:03d}-{10 + i % 80:02d}-{1000 + i:04d}" for i in range(n)],
            "ip_address": [f"81.{i}.{2 * i}.7" for i in range(n)],
            "dob": [f"19{40 + i % 60:02d}-0{1 + i % 9}-1{i % 10}" for i in range(n)],
            "age": rng.integers(18, 95, n),
            "notes": [
                f"Customer asked about delivery, reach at {fk.email()}"
                if i % 4 == 0
                else "Customer asked about delivery times and returns"
                for i in range(n)
            ],
        }
    )


def test_default_policies(people):
    out, report = apply_pii(people, detect_pii(people))
    assert list(out.columns) == ["customer_id", "zip", "dob", "age", "notes"]
    for col in (
        "email",
        "phone",
        "full_name",
        "street_address",
        "card_number",
        "iban",
        "ssn",
        "ip_address",
    ):
        assert report.actions[col].policy is PIIPolicy.DROP
        assert report.actions[col].source == "default"
    assert out["zip"].tolist() == [v[:3] for v in people["zip"]]
    assert out["dob"].tolist() == [int(v[:4]) for v in people["dob"]]
    assert out["notes"].str.contains("[EMAIL]", regex=False).sum() == 15
    assert DEFAULT_POLICIES[PIIKind.TEXT_WITH_PII] is PIIPolicy.REDACT


def test_default_policies_leave_no_original_pii_value(people):
    before = people.copy()
    out, _ = apply_pii(people)
    pii_cols = [c for c in people.columns if c not in ("customer_id", "age", "notes")]
    originals = {str(v) for c in pii_cols for v in people[c]}
    originals |= set(re.findall(r"\S+@\S+", " ".join(people["notes"])))
    cells = [str(v) for v in out.to_numpy().ravel()]
    leaked = {o for o in originals for cell in cells if o == cell or (len(o) > 6 and o in cell)}
    assert not leaked
    pd.testing.assert_frame_equal(people, before)  # and the caller's frame is unchanged


def test_callers_frame_is_unchanged_by_every_policy(people):
    before = people.copy()
    policies = {
        "email": "hash",
        "phone": "fake",
        "full_name": "keep",
        "zip": "generalise",
        "dob": "generalise",
        "age": "generalise",
        "notes": "redact",
        "iban": "drop",
    }
    out, _ = apply_pii(people, None, policies, hash_key=b"k")
    pd.testing.assert_frame_equal(people, before)
    out.iloc[0, 0] = -1
    pd.testing.assert_frame_equal(people, before)


def test_hash_policy(people, monkeypatch):
    monkeypatch.delenv("SYNTHCUST_HASH_KEY", raising=False)
    shouty = people.assign(email=people["email"].str.upper())
    a, ra = apply_pii(people, None, {"email": "hash"}, hash_key=b"secret")
    b, _ = apply_pii(shouty, None, {"email": "hash"}, hash_key=b"secret")
    c, _ = apply_pii(people, None, {"email": "hash"}, hash_key=b"other")
    assert a["email"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert a["email"].nunique() == people["email"].nunique()
    assert a["email"].tolist() == b["email"].tolist()  # e-mails are case-insensitive
    assert not set(a["email"]) & set(c["email"])
    assert ra.hash_key_source == "argument" and not any("random" in w for w in ra.warnings)

    monkeypatch.setenv("SYNTHCUST_HASH_KEY", "secret")
    d, rd = apply_pii(people, None, {"email": "hash"})
    assert rd.hash_key_source == "environment"
    assert d["email"].tolist() == a["email"].tolist()

    monkeypatch.delenv("SYNTHCUST_HASH_KEY")
    _, re_ = apply_pii(people, None, {"email": "hash"})
    assert re_.hash_key_source == "random"
    assert any("not linkable" in w for w in re_.warnings)
    assert "secret" not in json.dumps(re_.to_dict())


def test_hash_keeps_missing_values_missing():
    df = pd.DataFrame({"email": ["a@x.com", None, "a@x.com"]})
    out, _ = apply_pii(df, None, {"email": "hash"}, hash_key=b"k")
    assert out["email"].isna().tolist() == [False, True, False]
    assert out["email"][0] == out["email"][2]


def test_fake_policy_removes_column_and_plans_fakes(people):
    out, report = apply_pii(
        people, None, {"email": "fake", "full_name": "fake", "dob": "fake", "card_number": "fake"}
    )
    for col in ("email", "full_name", "dob", "card_number"):
        assert col not in out.columns
    plan = report.plan
    assert [f.column for f in plan.fakes] == ["email", "full_name", "card_number", "dob"]
    restored = PIIPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert restored == plan
    fakes = restored.fake_columns(100, random_state=5)
    assert fakes["email"].str.fullmatch(r"[a-z0-9._]+@example\.(com|org|net)").all()
    assert fakes["full_name"].str.fullmatch(r"\S+ \S+").all()
    assert luhn_valid(fakes["card_number"]).all()
    years = pd.to_datetime(fakes["dob"]).dt.year
    assert years.between(1940, 1999).all()  # the decade-rounded range of the real years
    sampled = restored.add_fakes(out.head(10), random_state=1)
    assert list(sampled.columns) == [c for c in people.columns if c in sampled.columns]
    assert set(sampled.columns) == set(out.columns) | {"email", "full_name", "dob", "card_number"}


def test_fake_is_deterministic_and_avoids_real_values():
    specs = [
        FakeSpec("email", PIIKind.EMAIL),
        FakeSpec("phone", PIIKind.PHONE),
        FakeSpec("name", PIIKind.PERSON_NAME),
        FakeSpec("ssn", PIIKind.NATIONAL_ID),
    ]
    a = fake_columns(specs, 500, random_state=9)
    pd.testing.assert_frame_equal(a, fake_columns(specs, 500, random_state=9))
    assert not a.equals(fake_columns(specs, 500, random_state=10))
    # exclude exactly what this seed would produce: every such value must be replaced
    real = {c: set(a[c]) for c in ("email", "phone", "name")}
    b = fake_columns(specs, 500, random_state=9, exclude=real)
    for c, values in real.items():
        assert not set(b[c]) & values, c
    assert b["email"].is_unique and b["phone"].is_unique


def test_fakes_are_valid_for_every_kind():
    specs = [
        FakeSpec(k.value, k, params=p)
        for k, p in [
            (PIIKind.EMAIL, {}),
            (PIIKind.PHONE, {}),
            (PIIKind.PERSON_NAME, {"part": "first"}),
            (PIIKind.ADDRESS, {}),
            (PIIKind.POSTAL_CODE, {}),
            (PIIKind.CREDIT_CARD, {}),
            (PIIKind.IBAN, {}),
            (PIIKind.NATIONAL_ID, {}),
            (PIIKind.IP_ADDRESS, {"version": 6}),
            (PIIKind.DATE_OF_BIRTH, {"format": "datetime", "min_year": 1960, "max_year": 1969}),
        ]
    ]
    df = fake_columns(specs, 300, random_state=0)
    found = detect_pii(df)
    for k in (
        PIIKind.EMAIL,
        PIIKind.PHONE,
        PIIKind.ADDRESS,
        PIIKind.CREDIT_CARD,
        PIIKind.IBAN,
        PIIKind.NATIONAL_ID,
        PIIKind.IP_ADDRESS,
        PIIKind.DATE_OF_BIRTH,
    ):
        assert found[k.value].kind is k, k
    assert df["date_of_birth"].dt.year.between(1960, 1969).all()
    assert not df["national_id"].str.match(r"(000|666|9)").any()
    assert df.isna().sum().sum() == 0
    nulls = fake_columns([FakeSpec("e", PIIKind.EMAIL, null_fraction=0.3)], 2000, 1)
    assert 0.25 < nulls["e"].isna().mean() < 0.35


def test_fake_100k_emails_is_fast():
    t = time.perf_counter()
    df = fake_columns([FakeSpec("email", PIIKind.EMAIL)], 100_000, random_state=0)
    assert time.perf_counter() - t < 3
    assert df["email"].is_unique


def test_generalise_policy():
    df = pd.DataFrame(
        {
            "zip": ["02134", "SW1A 1AA", "94105-1234", None],
            "zip_int": [2134, 94105, 10001, 60601],
            "dob": pd.to_datetime(["1980-02-03", "1975-12-01", None, "2001-07-04"]),
            "age": [34, 51.0, np.nan, 9],
            "signup": pd.to_datetime(["2021-01-01"] * 4),
        }
    )
    schema = {
        "zip": PIIKind.POSTAL_CODE,
        "zip_int": PIIKind.POSTAL_CODE,
        "dob": PIIKind.DATE_OF_BIRTH,
    }
    out, report = apply_pii(df, schema, {"age": "generalise", "signup": "generalize"})
    assert out["zip"].tolist()[:3] == ["021", "SW", "941"] and pd.isna(out["zip"][3])
    assert out["zip_int"].tolist() == ["021", "941", "100", "606"]
    assert out["dob"].tolist()[:2] == [1980, 1975] and pd.isna(out["dob"][2])
    assert out["age"].tolist()[:2] == ["30-39", "50-59"] and out["age"][3] == "0-9"
    assert pd.isna(out["age"][2])
    assert out["signup"].tolist() == [2021] * 4
    assert report.actions["age"].kind is None and report.actions["age"].source == "user"


def test_redact_policy():
    df = pd.DataFrame(
        {
            "comment": [
                "mail a.b@c.com or call (555) 123-4567",
                "card 4111-1111-1111-1111 and ssn 123-45-6789",
                "iban GB82 WEST 1234 5698 7654 32 from 10.1.2.3",
                "all fine",
                None,
            ]
        }
    )
    out, report = apply_pii(df, {"comment": PIIKind.TEXT_WITH_PII})
    assert out["comment"].tolist()[:4] == [
        "mail [EMAIL] or call [PHONE]",
        "card [CARD] and ssn [SSN]",
        "iban [IBAN] from [IP]",
        "all fine",
    ]
    assert pd.isna(out["comment"][4])
    assert "[EMAIL]" in report.actions["comment"].detail


def test_keep_policy_is_reported_as_the_users_choice(people):
    out, report = apply_pii(people, None, {"email": "keep"})
    assert out["email"].tolist() == people["email"].tolist()
    action = report.actions["email"]
    assert action.policy is PIIPolicy.KEEP and action.source == "user"
    assert any("'email'" in w and "keep" in w for w in report.warnings)


def test_invalid_policy_names_column_policy_and_allowed(people):
    with pytest.raises(PIIError, match=r"'email'.*'generalise'.*drop, hash, fake, keep"):
        apply_pii(people, None, {"email": "generalise"})
    with pytest.raises(PIIError, match=r"'notes'.*'fake'"):
        apply_pii(people, None, {"notes": "fake"})
    with pytest.raises(PIIError, match=r"'customer_id'.*generalise"):
        apply_pii(
            people.assign(customer_id=people["customer_id"] * 1000),
            None,
            {"customer_id": "generalise"},
        )
    with pytest.raises(PIIError, match=r"'age'.*unknown policy 'scramble'"):
        apply_pii(people, None, {"age": "scramble"})


def test_policy_for_a_missing_column_lists_the_columns(people):
    with pytest.raises(PIIError, match=r"'e_mail'.*not in the data.*'customer_id', 'email'"):
        apply_pii(people, None, {"e_mail": "drop"})


def test_schema_drives_apply(people):
    schema = Schema(
        (
            Column("customer_id", Kind.ID),
            Column("email", Kind.TEXT, pii=PIIKind.EMAIL, pii_policy=PIIPolicy.HASH),
            Column("zip", Kind.CATEGORICAL, pii=PIIKind.POSTAL_CODE),
            Column("gone", Kind.TEXT, pii=PIIKind.PHONE),
        )
    )
    out, report = apply_pii(people, schema, hash_key=b"k")
    assert report.actions["email"].source == "schema"
    assert report.actions["zip"].policy is PIIPolicy.GENERALISE
    assert "phone" in out.columns  # not marked in the schema
    assert any("'gone'" in w for w in report.warnings)


def test_report_outputs(people):
    from rich.table import Table

    _, report = apply_pii(people, None, {"email": "fake"}, hash_key=b"k")
    table = report.render_table()
    assert isinstance(table, Table)
    assert table.row_count == len(report.actions)
    lines = report.summary_lines()
    assert any(line.startswith("email: email") and "fake" in line for line in lines)
    d = json.loads(json.dumps(report.to_dict()))
    back = PIIReport.from_dict(d)
    assert back.plan == report.plan and back.findings == report.findings
    assert apply_pii(pd.DataFrame({"age": [1, 2]}))[1].summary_lines() == ["no PII found"]


def test_pii_marks_on_a_schema_come_from_privacy(people):
    # the schema layer knows no privacy: PII marks are the privacy layer's step
    from synthcust.exceptions import ParameterError
    from synthcust.privacy import infer_schema_with_pii, mark_pii
    from synthcust.schema.infer import infer_schema

    plain = infer_schema(people)
    assert all(c.pii is None for c in plain)
    marked = infer_schema_with_pii(people, target="zip")
    found = detect_pii(people)
    assert {c.name for c in marked if c.pii is not None} == set(found)
    assert marked["email"].pii is PIIKind.EMAIL and marked.target == "zip"
    assert mark_pii(people, plain) == infer_schema_with_pii(people)
    # a user's own mark is kept
    edited = plain.edit({"email": {"pii": "phone"}})
    assert mark_pii(people, edited)["email"].pii is PIIKind.PHONE
    with pytest.raises(ParameterError, match="infer_schema_with_pii"):
        infer_schema(people, detect_pii=True)
