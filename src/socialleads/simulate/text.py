"""Topics, vocabularies and sentence templates of the simulated world, and vectorized text assembly.

Text is cheap on purpose: a post is ``opener + term + middle + term + closer`` picked from per-(language,
style) templates and per-topic vocabularies with ``pyarrow.compute`` (no Python loop per post). No
piece contains a character that JSON would have to escape, so writer.py can paste text into JSON lines.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# ---------------------------------------------------------------------------------------------- topics
# name, hashtags, vocabulary (noun phrases that fit "… about X")
TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("home solar", ("solar", "rooftopsolar", "pv"), (
        "rooftop solar", "solar panels", "inverter sizing", "net metering", "panel degradation",
        "microinverters", "solar payback time", "east-west arrays", "shading losses", "feed-in tariffs",
        "balcony solar", "solar monitoring", "string inverters", "bifacial panels", "winter yield")),
    ("batteries and storage", ("batteries", "energystorage", "homebattery"), (
        "home batteries", "LFP cells", "battery cycling", "backup power", "peak shaving",
        "state of charge", "battery warranties", "time-of-use arbitrage", "depth of discharge",
        "second-life batteries", "battery degradation", "islanding", "whole-home backup")),
    ("heat pumps", ("heatpumps", "electrifyeverything", "heating"), (
        "heat pumps", "COP figures", "radiator upgrades", "defrost cycles", "air-to-water units",
        "flow temperatures", "heat loss surveys", "hybrid heating", "weather compensation",
        "ground source loops", "heat pump noise", "insulation first")),
    ("EV charging", ("ev", "evcharging", "electricvehicles"), (
        "EV charging", "smart chargers", "solar charging", "overnight tariffs", "vehicle-to-home",
        "charging schedules", "load balancing", "home chargers", "range anxiety", "bidirectional charging",
        "charger installs")),
    ("smart home and privacy", ("smarthome", "privacy", "homeassistant"), (
        "smart plugs", "local control", "cloud lock-in", "Home Assistant", "energy dashboards",
        "Matter devices", "data ownership", "telemetry opt-outs", "automation rules", "MQTT bridges",
        "vendor clouds", "offline-first devices")),
    ("energy prices and tariffs", ("energyprices", "tariffs", "energybills"), (
        "energy bills", "dynamic tariffs", "standing charges", "price caps", "wholesale prices",
        "demand response", "export rates", "fixed-rate deals", "tariff switching", "peak pricing",
        "winter bills")),
    ("right to repair and open hardware", ("righttorepair", "openhardware", "repair"), (
        "right to repair", "open hardware", "spare parts", "repair manuals", "firmware updates",
        "modular designs", "soldering kits", "open schematics", "planned obsolescence",
        "repair cafes", "replaceable batteries")),
    ("climate policy", ("climate", "netzero", "energytransition"), (
        "grid upgrades", "heat pump grants", "building standards", "carbon pricing",
        "community energy", "grid connection queues", "efficiency subsidies", "coal phase-out",
        "clean energy targets", "local energy plans", "energy poverty")),
)
CRISIS_TERMS = ("the Voltwise Hub firmware update", "my Voltwise Meter", "the Voltwise app",
                "the latest Voltwise update", "Voltwise Cloud sync", "my Voltwise dashboard")
NEWS_DOMAINS = ("energynews.example", "gridwatch.example", "cleantechdaily.example", "homeenergy.example",
                "climatedesk.example")

# ------------------------------------------------------------------------------------------- templates
LANGS = ("en", "de", "fr", "es", "pt", "ja")
LANG_P = (0.86, 0.045, 0.03, 0.03, 0.015, 0.02)
STYLES = ("statement", "question", "positive", "negative", "complaint")
ST_STATEMENT, ST_QUESTION, ST_POSITIVE, ST_NEGATIVE, ST_COMPLAINT = range(5)

_T: dict[tuple[str, int], tuple[tuple[str, str, str], ...]] = {
    ("en", ST_STATEMENT): (
        ("Been thinking a lot about ", " and how it connects to ", "."),
        ("Spent the weekend reading up on ", ". Turns out it matters for ", " too."),
        ("Hot take: ", " is underrated compared with ", "."),
        ("Today I learned that ", " changes the maths on ", "."),
        ("Quick note on ", ": it only works well with ", "."),
        ("Our street is finally talking about ", " and ", "."),
        ("Numbers from this month on ", " look better than expected thanks to ", "."),
        ("Still not sure ", " beats ", " for most homes."),
    ),
    ("en", ST_QUESTION): (
        ("Does anyone know how ", " compares with ", "?"),
        ("What is the best way to combine ", " with ", "?"),
        ("How do you size ", " when you also plan ", "?"),
        ("Why is nobody talking about ", " next to ", "?"),
        ("Is ", " worth it without ", "?"),
        ("Which works better for a small flat: ", " or ", "?"),
        ("Can someone explain ", " vs ", " like I am five?"),
    ),
    ("en", ST_POSITIVE): (
        ("Really happy with ", " so far, and it pairs great with ", "!"),
        ("Love how simple ", " has become. Next up: ", "."),
        ("Great thread on ", " and ", ", thanks for sharing."),
        ("Brilliant explainer on ", ". Finally I get ", "."),
        ("So glad we switched to ", ". Helpful tips on ", " too."),
    ),
    ("en", ST_NEGATIVE): (
        ("Frustrated with ", ". Also tired of hearing about ", "."),
        ("Honestly disappointed by ", " and the mess around ", "."),
        ("Bad week for ", ", and ", " did not help."),
        ("Annoyed that ", " is still so confusing next to ", "."),
    ),
    ("en", ST_COMPLAINT): (
        ("Really disappointed with ", ". Completely broken since yesterday, terrible ", "."),
        ("Awful experience with ", ". The worst support and a useless ", "."),
        ("Is anyone else having problems with ", "? Total outage here, angry about ", "!"),
        ("Why is ", " failing again? Terrible, broken ", ", I want a refund."),
        ("Worst update ever: ", " is broken and ", " is useless now."),
        ("Furious. ", " wiped my data and ", " keeps crashing. Unacceptable."),
    ),
    ("de", ST_STATEMENT): (
        ("Ich beschäftige mich gerade mit ", " und ", "."),
        ("Spannend: ", " verändert die Rechnung für ", "."),
    ),
    ("de", ST_QUESTION): (
        ("Hat jemand Erfahrung mit ", " und ", "?"),
        ("Wie kombiniert ihr ", " mit ", "?"),
    ),
    ("fr", ST_STATEMENT): (
        ("Je me renseigne sur ", " et sur ", "."),
        ("Intéressant de voir comment ", " change la donne pour ", "."),
    ),
    ("fr", ST_QUESTION): (
        ("Quelqu'un a déjà testé ", " avec ", " ?"),
        ("Comment choisir entre ", " et ", " ?"),
    ),
    ("es", ST_STATEMENT): (
        ("Estoy leyendo sobre ", " y ", "."),
        ("Me sorprende cuánto influye ", " en ", "."),
    ),
    ("es", ST_QUESTION): (
        ("¿Alguien sabe cómo combinar ", " con ", "?"),
        ("¿Vale la pena ", " sin ", "?"),
    ),
    ("pt", ST_STATEMENT): (
        ("Estou pesquisando sobre ", " e ", "."),
    ),
    ("pt", ST_QUESTION): (
        ("Alguém já usou ", " com ", "?"),
    ),
    ("ja", ST_STATEMENT): (
        ("最近 ", " と ", " について調べています。"),
    ),
    ("ja", ST_QUESTION): (
        ("", " と ", " はどちらが良いですか？"),
    ),
}


def _check(s: str) -> str:
    if any(c in s for c in '"\\') or any(ord(c) < 32 for c in s):
        raise ValueError(f"text piece needs JSON escaping: {s!r}")
    return s


class Vocab:
    """Flattened lookup tables for vectorized text assembly (built once per run)."""

    def __init__(self) -> None:
        self.n_topics = len(TOPICS)
        terms: list[str] = []
        self.term_off = np.zeros(self.n_topics + 1, np.int64)
        tags: list[str] = []
        self.tag_off = np.zeros(self.n_topics + 1, np.int64)
        for i, (_, hashtags, vocab) in enumerate(TOPICS):
            terms.extend(_check(v) for v in vocab)
            self.term_off[i + 1] = len(terms)
            tags.extend(_check(h) for h in hashtags)
            self.tag_off[i + 1] = len(tags)
        self.crisis_term0 = len(terms)
        terms.extend(CRISIS_TERMS)
        self.terms = pa.array(terms)
        self.tags = pa.array(tags)
        self.tag_text = pc.binary_join_element_wise(" #", self.tags, "")
        self.hashtag_entity = pc.binary_join_element_wise('{"etype":"hashtag","value":"', self.tags, '"}', "")
        # tag i as an entity: index i alone, index i + len(tags) after another entity (with a comma)
        self.hashtag_entity2 = pa.concat_arrays([self.hashtag_entity,
                                                 pc.binary_join_element_wise(",", self.hashtag_entity, "")])
        opens: list[str] = []
        mids: list[str] = []
        closes: list[str] = []
        n_l, n_s = len(LANGS), len(STYLES)
        self.tpl_off = np.zeros((n_l, n_s), np.int64)
        self.tpl_cnt = np.zeros((n_l, n_s), np.int64)
        for li, lang in enumerate(LANGS):
            for si in range(n_s):
                key = (lang, si) if (lang, si) in _T else (lang, ST_STATEMENT)
                tpl = _T[key]
                self.tpl_off[li, si] = len(opens)
                self.tpl_cnt[li, si] = len(tpl)
                for o, m, c in tpl:
                    opens.append(_check(o))
                    mids.append(_check(m))
                    closes.append(_check(c))
        self.opens, self.mids, self.closes = pa.array(opens), pa.array(mids), pa.array(closes)
        self.is_question = np.array(["?" in c or "？" in c or "?" in o for o, c in zip(opens, closes)])
        # asks: the text carries a question mark anywhere ('?', the full-width '？', the opening '¿'): the
        # question test of the engagement inbox (engage/inbox.py), used for the inbox ground truth
        self.asks = np.array([any(q in o + m + c for q in "?？¿") for o, m, c in zip(opens, mids, closes)])
        self.news = pa.array(list(NEWS_DOMAINS))
        self.slugs = pc.utf8_lower(pc.replace_substring(self.terms, " ", "-"))

    def term_index(self, rng: np.random.Generator, topic: np.ndarray) -> np.ndarray:
        lo, hi = self.term_off[topic], self.term_off[topic + 1]
        return lo + (rng.random(len(topic)) * (hi - lo)).astype(np.int64)

    def tag_index(self, rng: np.random.Generator, topic: np.ndarray) -> np.ndarray:
        lo, hi = self.tag_off[topic], self.tag_off[topic + 1]
        return lo + (rng.random(len(topic)) * (hi - lo)).astype(np.int64)

    def template_index(self, rng: np.random.Generator, lang: np.ndarray, style: np.ndarray) -> np.ndarray:
        off, cnt = self.tpl_off[lang, style], self.tpl_cnt[lang, style]
        return off + (rng.random(len(lang)) * cnt).astype(np.int64)

    def sentence_parts(self, rng: np.random.Generator, lang: np.ndarray, style: np.ndarray, topic: np.ndarray,
                       crisis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (template, first term, second term) indices of one sentence per row (see ``sentences``)."""
        n = len(lang)
        tpl = self.template_index(rng, lang, style)
        t1 = self.term_index(rng, topic)
        t2 = self.term_index(rng, topic)
        if crisis is not None and crisis.any():
            t1 = np.where(crisis, self.crisis_term0 + rng.integers(0, len(CRISIS_TERMS), n), t1)
        # the second term differs from the first where possible
        t2 = np.where(t2 == t1, np.where(t2 + 1 < self.term_off[topic + 1], t2 + 1, self.term_off[topic]), t2)
        return tpl, t1, t2

    def sentences(self, rng: np.random.Generator, lang: np.ndarray, style: np.ndarray, topic: np.ndarray,
                  crisis: np.ndarray | None = None) -> tuple[pa.Array, np.ndarray]:
        """One sentence per row; returns (text, is_question). Crisis rows use the crisis terms first."""
        tpl, t1, t2 = self.sentence_parts(rng, lang, style, topic, crisis)
        text = pc.binary_join_element_wise(self.opens.take(tpl), self.terms.take(t1), self.mids.take(tpl),
                                           self.terms.take(t2), self.closes.take(tpl), "")
        return text, self.is_question[tpl]


# ---------------------------------------------------------------------------------------- the owner's voice
PROMO = (
    "New: the {p} is here. Set up in ten minutes and see every watt",
    "Spring offer: 20% off the {p} this week only",
    "The {p} now works with {t}. Try it free for 30 days",
    "Back in stock: the {p}. Ships within two days",
    "Meet the {p}: better insight into {t} for every home",
)
HOWTO = (
    "How to track {t} with your {p}: pick one circuit, watch it for a week, then compare",
    "Tip: use the {p} to spot standby loads before you think about {t}",
    "Step by step: connecting the {p} to {t} in three steps",
    "Three quick ways to cut standby use, and how {t} fits in",
    "Guide: reading your {p} graphs to plan {t}",
)
THOUGHT = (
    "{pr}. That is why we think {t} should be measured openly, not guessed",
    "{pr}. The industry keeps getting {t} wrong, and data shows why",
    "Our view on {t}: {prl}, and everything else follows from that",
    "Unpopular opinion: {t} is a data problem before it is a hardware problem. {pr}",
    "Five years of building meters taught us one thing about {t}: {prl}",
)
PERSONAL = (
    "Friday at the workshop: the team is soldering new prototypes",
    "Our office plants survived another winter on the heat pump",
    "Team lunch today, powered by the solar roof",
    "Meet Ana from our support team, who has answered every ticket since 2019",
    "A quiet Sunday: new meters being tested in the lab",
)
CURATE = (
    "Worth a read on {t}:",
    "Good thread on {t}",
    "Sharing this explainer on {t}",
    "Great data on {t} here",
)
REPLY = (
    "Thanks for the kind words, glad it helps!",
    "Great question. Short answer: yes, and the guide on our site explains how.",
    "Thanks for flagging this, we are looking into it now.",
    "Happy to help. Can you send us a DM with your meter ID?",
    "Good point, we will add that to the next firmware.",
    "We hear you. A fix is rolling out today, sorry for the trouble.",
    "Thanks for sharing your setup, love the dashboard!",
)
CRISIS_REPLY = (
    "We are sorry. The last firmware update broke syncing for some meters; a rollback is live now.",
    "Apologies for the outage. Your data is safe and we are restoring sync now.",
    "You are right to be upset. We are fixing the update and will post a full report.",
)
