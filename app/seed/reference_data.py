"""The reference data loaded by scripts/init_db.py and at start on the embedded backend."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from app.models.reference import ReferenceItem, ReferenceKind
from app.utils.text import slugify

SDGS = [
    "No Poverty",
    "Zero Hunger",
    "Good Health and Well-being",
    "Quality Education",
    "Gender Equality",
    "Clean Water and Sanitation",
    "Affordable and Clean Energy",
    "Decent Work and Economic Growth",
    "Industry, Innovation and Infrastructure",
    "Reduced Inequalities",
    "Sustainable Cities and Communities",
    "Responsible Consumption and Production",
    "Climate Action",
    "Life Below Water",
    "Life on Land",
    "Peace, Justice and Strong Institutions",
    "Partnerships for the Goals",
]

INDUSTRIES = [
    "Agriculture & Food",
    "Fintech",
    "Health & Life Sciences",
    "Education",
    "Clean Energy",
    "Manufacturing",
    "Retail & E-commerce",
    "Creative Industries",
    "Tourism & Hospitality",
    "Logistics & Transport",
    "Construction & Real Estate",
    "Information Technology",
    "Professional Services",
    "Water & Sanitation",
    "Fashion & Textiles",
]

OPPORTUNITY_TYPES = ["Grant", "Loan", "Equity", "Accelerator", "Competition", "Fellowship"]
EVENT_TYPES = ["Workshop", "Networking", "Conference", "Webinar", "Pitch Event", "Training"]
TARGET_COMMUNITIES = [
    "Women Founders",
    "Youth",
    "Indigenous Entrepreneurs",
    "Rural Businesses",
    "Refugees & Migrants",
    "People with Disabilities",
    "Black Founders",
    "LGBTQ+ Founders",
    "Veterans",
    "Social Enterprises",
]
TAGS = [
    "Funding",
    "Mentorship",
    "Export",
    "Digital Skills",
    "Impact",
    "Climate",
    "Seed Stage",
    "Growth Stage",
    "Innovation",
    "Networking",
    "Training",
    "Early Stage",
]


def defaults() -> dict[ReferenceKind, list[dict[str, object]]]:
    def named(names: list[str]) -> list[dict[str, object]]:
        return [{"slug": slugify(n), "name": n, "position": i} for i, n in enumerate(names)]

    return {
        ReferenceKind.sdgs: [
            {"slug": f"sdg-{i}", "name": name, "number": i, "position": i}
            for i, name in enumerate(SDGS, start=1)
        ],
        ReferenceKind.industries: named(INDUSTRIES),
        ReferenceKind.opportunity_types: named(OPPORTUNITY_TYPES),
        ReferenceKind.event_types: named(EVENT_TYPES),
        ReferenceKind.target_communities: named(TARGET_COMMUNITIES),
        ReferenceKind.tags: named(TAGS),
    }


async def load_reference_data() -> int:
    """Insert missing default items; never overwrites admin edits. Returns how many were added."""
    added = 0
    for kind, items in defaults().items():
        existing = {
            d["slug"]
            async for d in ReferenceItem.get_motor_collection().find(
                {"kind": kind.value}, {"slug": 1}
            )
        }
        for data in items:
            if data["slug"] in existing:
                continue
            try:
                await ReferenceItem(kind=kind, **data).insert()
                added += 1
            except DuplicateKeyError:
                pass  # another instance seeded it first
    return added
