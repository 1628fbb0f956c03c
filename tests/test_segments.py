from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcust import api
from synthcust.exceptions import SegmentError
from synthcust.rules.segments import Segment, parse_rule, segment_mask
from synthcust.synthesizers import Range


def test_parse_rules():
    assert parse_rule("discount_share > 0.3 and orders_per_year >= 6") == {
        "discount_share": Range(0.3, None, low_inclusive=False),
        "orders_per_year": Range(6.0, None),
    }
    assert parse_rule("tier in ['gold', 'platinum'] and 25 <= age < 40") == {
        "tier": ["gold", "platinum"],
        "age": Range(25.0, 40.0, high_inclusive=False),
    }
    assert parse_rule("region == 'north' or region == 'east'") == {"region": ["east", "north"]}
    assert parse_rule("age > 30 and age <= 50") == {"age": Range(30.0, 50.0, low_inclusive=False)}


@pytest.mark.parametrize(
    "rule, msg",
    [
        ("", "empty"),
        ("age >", "cannot read rule"),
        ("age > 3 or region == 'x'", "same column"),
        ("age > income", "two columns"),
        ("not age > 3", "'not' is not supported"),
        ("age > 50 and age < 40", "contradict"),
        ("__import__('os').system('x')", "cannot use"),
        ("region > 'a'", "use a number"),
    ],
)
def test_bad_rules(rule, msg):
    with pytest.raises(SegmentError, match=msg):
        parse_rule(rule)


def test_mask_and_sampling_are_exact():
    rng = np.random.default_rng(0)
    n = 4000
    df = pd.DataFrame(
        {
            "discount_share": rng.beta(2, 5, n),
            "orders_per_year": rng.poisson(4, n),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    rule = "discount_share > 0.3 and orders_per_year >= 6 and region in ['north', 'east']"
    seg = Segment.parse("bargain", rule)
    m = segment_mask(df, seg.conditions)
    expected = (
        (df.discount_share > 0.3) & (df.orders_per_year >= 6) & df.region.isin(["north", "east"])
    )
    assert (m == expected.to_numpy()).all() and m.sum() > 50
    model = api.fit(df, segments={"bargain": rule}, random_state=0)
    out = model.sample(1000, segment="bargain", random_state=1)
    assert segment_mask(out, seg.conditions).all()
    # the segment's members look like the real members, not just obey the rule
    real_members = df[m]
    assert abs(out.discount_share.mean() - real_members.discount_share.mean()) < 0.05


def test_empty_segment_is_refused():
    df = pd.DataFrame({"age": np.arange(20, 60), "x": np.arange(40) % 3})
    with pytest.raises(SegmentError, match="matches no customer"):
        api.fit(df, segments={"old": "age > 90"})
    with pytest.raises(SegmentError, match="not learned"):
        api.fit(df, segments={"s": "income > 3"})


def test_one_expression_language_for_segments_and_constraints():
    # backticked names and sets, as in constraints, are read by segments too
    assert parse_rule("`loyalty tier` in {'gold'} and -5 < balance <= 10") == {
        "loyalty tier": "gold",
        "balance": Range(-5.0, 10.0, low_inclusive=False),
    }
    # every error names the segment, the rule, the column (position) at fault and the fix
    with pytest.raises(SegmentError) as e:
        parse_rule("age > 30 and `list price` > income", "pricey")
    msg = str(e.value)
    assert msg.startswith("segment 'pricey': ") and "at column 14" in msg
    assert "'age > 30 and `list price` > income'" in msg and "write e.g." in msg
    with pytest.raises(SegmentError, match=r"cannot read rule \(.*\) at column 6 in 'age >'"):
        parse_rule("age >")
    # the constraints' parser gives the same shape of message (a SchemaError there)
    from synthcust.exceptions import SchemaError
    from synthcust.rules.constraint_text import parse_constraint

    with pytest.raises(SchemaError, match=r"^constraint: cannot use 'c\.d' .*at column 9 in "):
        parse_constraint("`a b` + c.d >= 0")
