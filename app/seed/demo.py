"""A realistic demo catalogue: a dozen organisations, ~60 opportunities, ~40 events, profiles.

Deterministic (seeded random), idempotent (skipped when organisations already exist).
Loaded at start on the embedded backend; `scripts/seed_demo.py` loads it into MONGODB_URL.
Keep it small: the embedded backend scans every collection per query, and stays comfortable
up to about 250 items per kind (README, "How large `make run` stays comfortable";
`scripts/bench_embedded.py`).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from app.core.config import Settings
from app.core.security import hash_password
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event, EventFormat, Venue
from app.models.opportunity import Eligibility, Opportunity
from app.models.organisation import (
    Member,
    Organisation,
    OrganisationType,
    OrgRole,
    PartnerContact,
    Partnership,
    PartnerStatus,
    PartnerTier,
)
from app.models.profile import BusinessStage, Profile, RevenueBand, Visibility
from app.models.user import Role, User
from app.seed import reference_data
from app.services import events, opportunities, organisations
from app.services.catalogue import with_derived
from app.services.catalogue.derive import organisation_fields
from app.utils.text import slugify

CITIES = [
    # city, region, country, lat, lng, timezone, currency
    ("Nairobi", "Nairobi County", "KE", -1.2864, 36.8172, "Africa/Nairobi", "KES"),
    ("Lagos", "Lagos State", "NG", 6.5244, 3.3792, "Africa/Lagos", "NGN"),
    ("Accra", "Greater Accra", "GH", 5.6037, -0.1870, "Africa/Accra", "GHS"),
    ("Cape Town", "Western Cape", "ZA", -33.9249, 18.4241, "Africa/Johannesburg", "ZAR"),
    ("London", "England", "GB", 51.5072, -0.1276, "Europe/London", "GBP"),
    ("Toronto", "Ontario", "CA", 43.6532, -79.3832, "America/Toronto", "CAD"),
    ("São Paulo", "São Paulo", "BR", -23.5505, -46.6333, "America/Sao_Paulo", "BRL"),
    ("Bengaluru", "Karnataka", "IN", 12.9716, 77.5946, "Asia/Kolkata", "INR"),
    ("Kigali", "Kigali", "RW", -1.9441, 30.0619, "Africa/Kigali", "RWF"),
    ("Berlin", "Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "EUR"),
]

ORGANISATIONS = [
    ("Savanna Growth Fund", OrganisationType.investor),
    ("Ministry of Trade & Industry", OrganisationType.government),
    ("Women in Business Network", OrganisationType.ngo),
    ("Kijani Climate Accelerator", OrganisationType.accelerator),
    ("Atlas Commercial Bank", OrganisationType.corporate),
    ("University Innovation Hub", OrganisationType.university),
    ("Youth Enterprise Foundation", OrganisationType.ngo),
    ("Harbour Angel Investors", OrganisationType.investor),
    ("Digital Skills Alliance", OrganisationType.other),
    ("Green Energy Partners", OrganisationType.corporate),
    ("Rural Futures Trust", OrganisationType.ngo),
    ("Crèche & Café Co-operative", OrganisationType.other),
]

OPPORTUNITY_TEMPLATES = [
    (
        "grant",
        "{area} Innovation Grant",
        "Non-dilutive funding for {area_l} ventures ready to scale.",
    ),
    ("loan", "{area} Growth Loan", "Low-interest working-capital loans for {area_l} businesses."),
    ("equity", "{area} Seed Investment", "Seed equity for early-stage {area_l} startups."),
    (
        "accelerator",
        "{area} Accelerator Programme",
        "Twelve weeks of mentoring for {area_l} founders.",
    ),
    ("competition", "{area} Pitch Competition", "Pitch your {area_l} idea to a jury of investors."),
    (
        "fellowship",
        "{area} Founders Fellowship",
        "A year-long fellowship for {area_l} entrepreneurs.",
    ),
]

EVENT_TEMPLATES = [
    ("workshop", "{area} Bookkeeping Workshop", "Hands-on finance basics for {area_l} founders."),
    ("networking", "{area} Founders Mixer", "Meet peers, mentors and investors in {area_l}."),
    ("conference", "{area} Summit", "Two days of talks on the future of {area_l}."),
    ("webinar", "Raising Capital for {area}", "An online session on funding {area_l} businesses."),
    ("pitch-event", "{area} Demo Day", "Startups in {area_l} pitch to investors."),
    ("training", "{area} Export Readiness Training", "Get your {area_l} products export-ready."),
]


def _slugs(names: list[str]) -> list[str]:
    return [slugify(n) for n in names]


async def _demo_user(local_part: str, full_name: str, role: Role, password_hash: str) -> User:
    user = User(
        email=f"{local_part}@demo.runwei.local",
        full_name=full_name,
        password_hash=password_hash,
        role=role,
        is_verified=True,
    )
    return await user.insert()


def _item_fields(
    org: Organisation, status: ItemStatus, rng: random.Random, now: datetime, within_days: int
) -> dict[str, Any]:
    """What every demo item has: its organisation, status (published within the last
    `within_days` days) and author."""
    published = status is ItemStatus.published
    return {
        **organisation_fields(org),
        "status": status,
        "ever_published": published,
        "published_at": now - timedelta(days=rng.randint(1, within_days)) if published else None,
        "created_by": org.members[0].user_id,
    }


async def load_demo(settings: Settings, *, seed: int = 42) -> dict[str, int]:
    if await Organisation.find_all().count():
        return {"organisations": 0, "opportunities": 0, "events": 0, "profiles": 0}
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    industries = _slugs(reference_data.INDUSTRIES)
    communities = _slugs(reference_data.TARGET_COMMUNITIES)
    tags = _slugs(reference_data.TAGS)
    sdgs = [f"sdg-{i}" for i in range(1, 18)]
    now = utcnow()
    # Demo accounts get unusable random passwords; admins can reset them.
    password_hash = await hash_password(settings, secrets.token_urlsafe(24))

    partners: list[User] = []
    for i in range(6):
        partners.append(
            await _demo_user(
                f"partner{i + 1}", f"Demo Partner {i + 1}", Role.partner, password_hash
            )
        )

    orgs: list[Organisation] = []
    for i, (name, org_type) in enumerate(ORGANISATIONS):
        city = CITIES[i % len(CITIES)]
        owner = partners[i % len(partners)]
        org = Organisation(
            name=name,
            slug=slugify(name),
            type=org_type,
            description=f"<p>{name} supports entrepreneurs across {city[0]} and beyond.</p>",
            website=f"https://{slugify(name)}.example.org",
            country=city[2],
            members=[Member(user_id=owner.id, role=OrgRole.owner, added_at=now)],
        )
        org = org.model_copy(update=organisations.derive(org))
        await org.insert()
        orgs.append(org)
        if i < 6:
            await Partnership(
                organisation_id=org.id,
                organisation_name=org.name,
                organisation_slug=org.slug,
                tier=list(PartnerTier)[i % len(PartnerTier)],
                status=PartnerStatus.active,
                contact=PartnerContact(name=owner.full_name, email=owner.email),
                start_date=(now - timedelta(days=200)).replace(
                    hour=0, minute=0, second=0, microsecond=0
                ),
            ).insert()

    statuses = [ItemStatus.published] * 8 + [ItemStatus.draft, ItemStatus.pending_review]
    n_opportunities = 0
    for i in range(60):
        org = orgs[i % len(orgs)]
        city = CITIES[rng.randrange(len(CITIES))]
        area = reference_data.INDUSTRIES[rng.randrange(len(reference_data.INDUSTRIES))]
        type_slug, title_t, summary_t = OPPORTUNITY_TEMPLATES[i % len(OPPORTUNITY_TEMPLATES)]
        title = title_t.format(area=area) + f" {2027 + i // 30}" + ("" if i < 30 else " II")
        rolling = i % 9 == 0
        deadline = (
            None
            if rolling
            else now + timedelta(days=rng.randint(-20, 150), hours=rng.randint(0, 23))
        )
        amount = rng.choice([5_000, 10_000, 25_000, 50_000, 100_000, 250_000]) * 100
        status = statuses[i % len(statuses)]
        item = Opportunity(
            title=title,
            slug=f"{slugify(title)}-{i + 1}",
            summary=summary_t.format(area_l=area.lower()),
            description=f"<p>{summary_t.format(area_l=area.lower())}</p><p>Open to founders in {city[0]}.</p>",
            type=type_slug,
            **_item_fields(org, status, rng, now, 60),
            amount_min=amount // 10 if type_slug in {"grant", "loan", "equity"} else None,
            amount_max=amount if type_slug in {"grant", "loan", "equity"} else None,
            currency=city[6] if type_slug in {"grant", "loan", "equity"} else None,
            deadline=deadline,
            rolling=rolling,
            application_url=f"https://{org.slug}.example.org/apply/{i}",
            eligibility=Eligibility(
                industries=[slugify(area)],
                stages=rng.sample([s.value for s in BusinessStage], 2),
                countries=[city[2]],
                target_communities=rng.sample(communities, 1),
            ),
            industries=[slugify(area)],
            tags=rng.sample(tags, 2),
            sdgs=rng.sample(sdgs, 2),
            target_communities=rng.sample(communities, 1),
            featured=i % 11 == 0,
        )
        await with_derived(opportunities.KIND, item).insert()
        n_opportunities += 1

    n_events = 0
    for i in range(40):
        org = orgs[(i * 5) % len(orgs)]
        city = CITIES[rng.randrange(len(CITIES))]
        area = reference_data.INDUSTRIES[rng.randrange(len(reference_data.INDUSTRIES))]
        type_slug, title_t, desc_t = EVENT_TEMPLATES[i % len(EVENT_TEMPLATES)]
        title = f"{title_t.format(area=area)} — {city[0]}"
        fmt = [EventFormat.in_person, EventFormat.online, EventFormat.hybrid][i % 3]
        start = (now + timedelta(days=rng.randint(-10, 120))).replace(
            minute=0, second=0, microsecond=0
        )
        status = statuses[(i + 3) % len(statuses)]
        event = Event(
            title=title,
            slug=slugify(title) + f"-{i + 1}",
            description=f"<p>{desc_t.format(area_l=area.lower())}</p>",
            type=type_slug,
            **_item_fields(org, status, rng, now, 30),
            start_at=start,
            end_at=start + timedelta(hours=rng.choice([2, 3, 8, 32])),
            timezone=city[5],
            format=fmt,
            venue=None
            if fmt is EventFormat.online
            else Venue(
                name=f"{city[0]} Innovation Centre",
                address=f"{rng.randint(1, 200)} Enterprise Road",
                city=city[0],
                region=city[1],
                country=city[2],
                lat=round(city[3] + rng.uniform(-0.05, 0.05), 5),
                lng=round(city[4] + rng.uniform(-0.05, 0.05), 5),
            ),
            online_url=None
            if fmt is EventFormat.in_person
            else f"https://meet.example.org/{org.slug}-{i}",
            capacity=rng.choice([None, 20, 50, 100, 250]),
            price=rng.choice([0, 0, 0, 1500, 5000]),
            currency=city[6],
            industries=[slugify(area)],
            tags=rng.sample(tags, 2),
            sdgs=rng.sample(sdgs, 1),
            target_communities=rng.sample(communities, 1),
        )
        if event.price == 0:
            event.currency = None
        await with_derived(events.KIND, event).insert()
        n_events += 1

    n_profiles = 0
    for i in range(8):
        city = CITIES[i % len(CITIES)]
        user = await _demo_user(
            f"founder{i + 1}", f"Demo Founder {i + 1}", Role.entrepreneur, password_hash
        )
        business: dict[str, Any] = {
            "display_name": user.full_name,
            "business_name": f"{reference_data.INDUSTRIES[i].split(' ')[0]} Ventures {city[0]}",
            "bio": f"We build {reference_data.INDUSTRIES[i].lower()} solutions in {city[0]}.",
            "stage": list(BusinessStage)[i % len(BusinessStage)],
            "founded_year": 2015 + i,
            "team_size": 2 + i * 3,
            "revenue_band": list(RevenueBand)[i % len(RevenueBand)],
            "industries": [industries[i]],
            "country": city[2],
            "region": city[1],
            "city": city[0],
            "target_communities": [communities[i % len(communities)]],
            "sdgs": [sdgs[i]],
            "interests": rng.sample(tags, 2),
            "visibility": [Visibility.public, Visibility.members][i % 2],
        }
        await Profile(user_id=user.id, **business).insert()
        n_profiles += 1
    return {
        "organisations": len(orgs),
        "opportunities": n_opportunities,
        "events": n_events,
        "profiles": n_profiles,
    }
