"""The registration's workflow, and the one the receiving commune follows for an inter-commune dérogation.

Ordinary registrations are accepted by an instructor. A dérogation is decided
by a supervisor (``level="supervisor"``, API 1.2): inside the commune, granted
or refused; for another commune, the home supervisor first says whether the
commune agrees and shares the schooling costs (told to the receiving commune,
``shares_decision``), the receiving commune says whether it has a place, then
an instructor registers the child there or at the catchment school.
An address the catchment map does not cover is flagged (``catchment`` is
``uncovered``): an instructor assigns a school by hand (``assign_school``, a
choice among the commune's schools teaching the child's level, API 1.2),
which clears the flag.
Accepted registrations stay open until the school records the admission, so
a cancellation can still revoke the certificate.
"""

from __future__ import annotations

from gateway import Choice, Localized, State, Transition, Workflow

#: the instructor's step assigning a school to an address the catchment map does not cover (a choice, API 1.2)
ASSIGN_SCHOOL = "assign_school"

ACCEPTED_NOTICE = Localized(
    "L'inscription de votre enfant est acceptée : le certificat d'inscription est à télécharger sur cette page. "
    "Présentez-le au directeur ou à la directrice de l'école pour l'admission.",
    "Your child's registration is accepted: download the registration certificate from this page and show it to "
    "the school's head teacher for the admission.",
)

HOME_REFUSALS = (
    Choice("no-grounds", Localized("Dérogation refusée : motif non retenu", "Dérogation refused: reason not accepted")),
    Choice(
        "school-full",
        Localized("Dérogation refusée : école demandée complète", "Dérogation refused: the school asked for is full"),
    ),
    Choice(
        "no-place-elsewhere",
        Localized(
            "Dérogation refusée : pas de place dans la commune d'accueil",
            "Dérogation refused: no place in the receiving commune",
        ),
    ),
    Choice("other", Localized("Dérogation refusée : autre motif", "Dérogation refused: other reason")),
)

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("to_complete", Localized("Pièces à compléter", "Documents to complete")),
        State(
            "derogation_agreed",
            Localized(
                "Dérogation : accord de la commune, en attente de la commune d'accueil",
                "Dérogation: agreed by the commune, awaiting the receiving commune",
            ),
        ),
        State("accepted", Localized("Inscription acceptée", "Registration accepted")),
        State(
            "admitted", Localized("Admission enregistrée par l'école", "Admission recorded by the school"), final=True
        ),
        State("refused", Localized("Refusée", "Refused"), final=True),
        State("cancelled", Localized("Inscription annulée", "Registration cancelled"), final=True),
    ),
    transitions=(
        Transition(
            "ask_documents",
            Localized("Demander des pièces", "Ask for documents"),
            ("submitted",),
            "to_complete",
            comment_required=True,
            notify=Localized(
                "Des pièces manquent à votre demande d'inscription : le détail est ci-dessous.",
                "Documents are missing from your registration: see the details below.",
            ),
        ),
        Transition(
            ASSIGN_SCHOOL,
            Localized(
                "Attribuer une école (adresse hors carte scolaire)", "Assign a school (address off the catchment map)"
            ),
            ("submitted",),
            "submitted",
            only_if=("catchment", ("uncovered",)),
            choice=Localized("École attribuée", "School assigned"),
        ),
        Transition(
            "documents_complete", Localized("Pièces reçues", "Documents received"), ("to_complete",), "submitted"
        ),
        Transition(
            "accept",
            Localized("Accepter l'inscription", "Accept the registration"),
            ("submitted",),
            "accepted",
            notify=ACCEPTED_NOTICE,
            only_if=("derogation", ("no",)),
        ),
        Transition(
            "grant_derogation",
            Localized("Accorder la dérogation", "Grant the dérogation"),
            ("submitted",),
            "accepted",
            level="supervisor",
            comment_required=True,
            notify=ACCEPTED_NOTICE,
            only_if=("derogation", ("here",)),
        ),
        Transition(
            "refuse_derogation",
            Localized(
                "Refuser la dérogation (inscrire à l'école de secteur)",
                "Refuse the dérogation (register at the catchment school)",
            ),
            ("submitted", "derogation_agreed"),
            "accepted",
            level="supervisor",
            reasons=HOME_REFUSALS,
            comment_required=True,
            shares_decision=True,
            only_if=("derogation", ("here", "elsewhere")),
            notify=Localized(
                "La dérogation est refusée (motif ci-dessous) ; votre enfant est inscrit à "
                "l'école de secteur, le certificat est à télécharger sur cette page.",
                "The dérogation is refused (reason below); your child is registered at the "
                "catchment school, the certificate is on this page.",
            ),
        ),
        Transition(
            "agree_derogation",
            Localized("Accord de la commune pour la dérogation", "The commune agrees to the dérogation"),
            ("submitted",),
            "derogation_agreed",
            level="supervisor",
            comment_required=True,
            shares_decision=True,
            only_if=("derogation", ("elsewhere",)),
            reasons=(
                Choice(
                    "costs-shared",
                    Localized(
                        "Accord, avec participation aux frais de scolarité", "Agreed, sharing the schooling costs"
                    ),
                ),
                Choice(
                    "costs-not-shared",
                    Localized(
                        "Accord, sans participation aux frais de scolarité",
                        "Agreed, without sharing the schooling costs",
                    ),
                ),
            ),
            notify=Localized(
                "Votre commune accepte la dérogation ; la commune d'accueil doit maintenant dire si elle a une place.",
                "Your commune agrees to the dérogation; the receiving commune must now say whether it has a place.",
            ),
        ),
        Transition(
            "register_elsewhere",
            Localized("Inscrire dans l'école de la commune d'accueil", "Register at the receiving school"),
            ("derogation_agreed",),
            "accepted",
            notify=ACCEPTED_NOTICE,
            # the receiving commune learns that the child is registered in its school
            shares_decision=True,
        ),
        Transition(
            "refuse",
            Localized("Refuser l'inscription", "Refuse the registration"),
            ("submitted", "to_complete"),
            "refused",
            comment_required=True,
            reasons=(
                Choice(
                    "not-resident",
                    Localized("Famille non domiciliée dans la commune", "Family not living in the commune"),
                ),
                Choice(
                    "no-authority",
                    Localized("Demandeur sans autorité parentale", "Applicant without parental authority"),
                ),
                Choice("tps-no-room", Localized("Toute petite section : pas de place", "Pre-nursery: no room")),
                Choice("incomplete", Localized("Dossier incomplet", "Incomplete file")),
                Choice("other", Localized("Autre motif", "Other reason")),
            ),
            notify=Localized(
                "Votre demande d'inscription est refusée. Le motif est indiqué ci-dessous.",
                "Your registration is refused. The reason is given below.",
            ),
        ),
        Transition(
            "cancel",
            Localized("Annuler l'inscription", "Cancel the registration"),
            ("accepted",),
            "cancelled",
            comment_required=True,
            notify=Localized(
                "L'inscription de votre enfant est annulée ; son certificat n'est plus valable.",
                "Your child's registration is cancelled; its certificate is no longer valid.",
            ),
        ),
        Transition(
            "admit",
            Localized("Admission enregistrée par l'école", "Admission recorded by the school"),
            ("accepted",),
            "admitted",
        ),
    ),
)

LINKED_WORKFLOW = Workflow(
    states=(
        State("received", Localized("Dérogation reçue", "Dérogation received")),
        State("place_available", Localized("Place disponible", "Place available"), final=True),
        State("no_place", Localized("Pas de place", "No place"), final=True),
    ),
    transitions=(
        Transition(
            "offer_place",
            Localized("Place disponible", "Place available"),
            ("received",),
            "place_available",
            level="supervisor",
            comment_required=True,
        ),
        Transition(
            "no_place",
            Localized("Pas de place", "No place"),
            ("received",),
            "no_place",
            level="supervisor",
            comment_required=True,
            reasons=(
                Choice("level-full", Localized("Niveau complet", "Level full")),
                Choice("school-full", Localized("École complète", "School full")),
                Choice("other", Localized("Autre motif", "Other reason")),
            ),
        ),
    ),
    initial="received",
)
