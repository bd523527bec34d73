"""Demo data for the demo syndicate: fictitious people, filed through the real path, and staff to look at them.

Every demo request goes through :func:`gateway.requests.filing.file_request`,
exactly as a citizen's would, with a fixed submission key so seeding twice
files nothing new. The demo staff (an agent, a supervisor and an auditor per
commune, and the syndicate's auditor and administrator, see
:func:`gateway.demo.staff.demo_staff`) are created and linked
to the demo provider's fictitious agents, so that a newcomer can sign in to
the back office and the audit console without an authenticator app.
"""

from __future__ import annotations

from gateway.audit.events import SYSTEM
from gateway.db import Database
from gateway.demo.staff import demo_staff
from gateway.registry import Registry
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for

#: Clearly fictitious people writing to their town hall.
CONTACT_MESSAGES = (
    {
        "name": "Camille Exemple",
        "email": "camille.exemple@example.org",
        "topic": "voirie",
        "message": "Le lampadaire devant le 3 rue des Essais ne s'allume plus depuis une semaine.",
    },
    {
        "name": "Dominique Fictif",
        "email": "dominique.fictif@example.org",
        "topic": "autre",
        "message": "Bonjour, à quelle date ouvrent les inscriptions pour la fête de quartier ?",
    },
)


def seed(db: Database, registry: Registry) -> int:
    """Create the demo staff, file the demo requests that are not there yet; return how many requests were added."""
    demo_staff(db, registry)
    created = 0
    for commune in registry.communes.values():
        if not (commune.enables("contact") and registry.is_available("contact")):
            continue
        offered = {choice for choice in getattr(commune.services["contact"], "topics", ())}
        for number, message in enumerate(CONTACT_MESSAGES, start=1):
            data = dict(message)
            if data["topic"] not in offered:
                data["topic"] = "autre" if "autre" in offered else next(iter(offered))
            key = f"demo-{commune.slug}-contact-{number}"
            rules = rules_for(registry, commune, "contact")
            caller = Caller(actor=SYSTEM, origin="cli demo seed", locale="fr")
            filed = file_request(db, registry, rules, caller, Submission(data, key))
            if filed.errors:
                raise RuntimeError(f"demo message {number} for {commune.slug} was refused: {filed.errors}")
            created += 0 if filed.replayed else 1
    return created
