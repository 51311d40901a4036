"""leads.toml validation names the key and what is wrong; the template is valid as written."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from socialleads.errors import ConfigError
from socialleads.workspace.config import parse_config
from socialleads.workspace.workspace import template_text


def test_template_is_valid_and_commented():
    text = template_text()
    assert text.count("#") > 20  # every key is explained
    cfg = parse_config(tomllib.loads(text))
    assert cfg.window_days == 90 and cfg.goals.response_sla_hours == 24
    assert cfg.owner[0].platform == "bluesky"


def test_full_config():
    cfg = parse_config(tomllib.loads("""
[workspace]
name = "Acme"
[[owner.accounts]]
platform = "bluesky"
key = "did:plc:abc"
[[owner.accounts]]
platform = "mastodon"
handle = "@acme@mastodon.social"
[[competitors]]
name = "Globex"
accounts = [{ platform = "x", handle = "globex" }]
[brand]
big_promise = "Tools that respect people"
principles = ["Privacy first", "Open by default"]
causes = ["Digital rights"]
product_terms = ["AcmeDB"]
domains = ["www.Acme.example"]
[goals]
followers = 10000
followers_by = 2027-06-30
posts_per_week = 7
response_sla_hours = 4
conversation_ratio = 0.5
"""))
    assert cfg.name == "Acme"
    assert [a.key or a.handle for a in cfg.owner] == ["did:plc:abc", "acme@mastodon.social"]
    assert cfg.competitors[0].name == "Globex"
    assert cfg.brand.domains == ("acme.example",)
    assert cfg.goals.followers_by == dt.date(2027, 6, 30) and cfg.goals.followers == 10000


@pytest.mark.parametrize("toml,message", [
    ('[goals]\nposts_per_week = "ten"', "goals.posts_per_week: expected a number, got 'ten'"),
    ("[goals]\nconversation_ratio = 3", "goals.conversation_ratio: expected a number between 0 and 1, got 3"),
    ("[goals]\nfollowers_by = \"soon\"", "goals.followers_by: expected a date like 2027-06-30, got 'soon'"),
    ('[[owner.accounts]]\nplatform = "myspace"\nhandle = "x"', "owner.accounts[0].platform: expected one of"),
    ('[[owner.accounts]]\nplatform = "x"', "owner.accounts[0]: needs a handle or a key"),
    ('[brand]\nprinciples = "be nice"', "brand.principles: expected a list of texts"),
    ("[analysis]\nwindow_days = 0", "analysis.window_days: expected a number ≥ 1, got 0"),
    ("[sauce]\nx = 1", "sauce: unknown section"),
    ('[[competitors]]\nname = "G"', "competitors[0].accounts: expected a non-empty list"),
])
def test_validation_names_the_key(toml, message):
    with pytest.raises(ConfigError) as exc:
        parse_config(tomllib.loads(toml), source="ws/leads.toml")
    assert str(exc.value).startswith("ws/leads.toml: ")
    assert message in str(exc.value)
