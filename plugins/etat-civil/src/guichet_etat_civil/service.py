"""The service the plugin declares: « Demande d'acte d'état civil », its purpose, legal basis and eligibility."""

from __future__ import annotations

from gateway import Localized, ServiceDefinition
from guichet_etat_civil.settings import EtatCivilSettings
from guichet_etat_civil.workflow import WORKFLOW

KEY = "etat-civil"

ELIGIBILITY = Localized(
    "Tout le monde peut obtenir un extrait d'acte de naissance ou de mariage sans filiation, et un acte de décès. "
    "La copie intégrale, l'extrait avec filiation et l'extrait plurilingue ne sont délivrés qu'à la personne "
    "concernée (majeure), à son conjoint, à ses ascendants ou descendants, à son représentant légal ou à un "
    "professionnel habilité (notaire, avocat) ; ils sont ouverts à tous 75 ans après l'acte (100 ans s'il concerne "
    "un mineur) ou 25 ans après le décès de la personne. La mairie ne délivre que les actes des événements survenus "
    "dans la commune ; pour un événement à l'étranger, adressez-vous au Service central d'état civil (Nantes).",
    "Anyone may obtain an extract of a birth or marriage record without parents' names, and a death record. "
    "A full copy, an extract with parents' names and a multilingual extract are issued only to the person the record "
    "concerns (adult), their spouse, ascendants or descendants, legal representative or an authorised professional "
    "(notary, lawyer); they are open to anyone 75 years after the record (100 if it concerns a minor) or 25 years "
    "after the person's death. The town hall issues only records of events that happened in the commune; for an "
    "event abroad, apply to the Service central d'état civil (Nantes).",
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Demande d'acte d'état civil", "Civil-status record request"),
    description=Localized(
        "Demandez une copie ou un extrait d'acte de naissance, de mariage ou de décès, gratuitement, "
        "reçu par courrier ou à retirer en mairie.",
        "Ask for a copy or an extract of a birth, marriage or death record, free of charge, by post or "
        "to collect at the town hall.",
    ),
    reference_prefix="EC",
    purpose=Localized(
        "Délivrer les copies et extraits d'actes de l'état civil demandés (mission de la commune, officier de "
        "l'état civil).",
        "To issue the copies and extracts of civil-status records you ask for (the commune's civil-status duty).",
    ),
    legal_basis=Localized(
        "Code civil ; décret n° 2017-890 du 6 mai 2017 relatif à l'état civil ; Code du patrimoine, art. L213-2.",
        "French Civil Code; decree 2017-890 of 6 May 2017 on civil status; Code du patrimoine, art. L213-2.",
    ),
    eligibility=ELIGIBILITY,
    settings=EtatCivilSettings,
    retention_days=365,
    workflow=WORKFLOW,
    # prefills the record holder's birth date and place when the citizen asks for their own record
    identity_claims=("birthdate", "birthplace"),
)
