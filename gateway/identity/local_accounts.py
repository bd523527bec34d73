"""Local citizen accounts: e-mail and password, for people who cannot use FranceConnect.

What is kept
    A local account is a :class:`~gateway.models.Citizen` (issuer ``"local"``,
    ``sub`` the account id, a random ``public_id``) and its
    :class:`~gateway.models.LocalAccount`: the address (lower-cased; unique),
    the argon2id hash of the password, when the account was created and when
    the address was confirmed. ``Citizen.email`` stays empty until the address
    is confirmed, so services and pages only ever see a verified address. The
    language of the messages is kept as the OpenID ``locale`` claim.

Links sent by e-mail
    Verification and reset links carry a token signed with the gateway's
    secret (itsdangerous, one salt per use) holding the account id and a
    fingerprint (HMAC with the secret): of the address for verification, of
    the current password hash for a reset. A reset link therefore dies as soon
    as the password changes, which makes it single use. They live 48 hours
    (verification) and 1 hour (reset).

Nothing tells who has an account
    Creating an account for an address that already has one, asking for a new
    password or for a new verification link all get the same answer whatever
    the address; only the mailbox learns more. The owner of an address that
    someone tried to register again is told so; when their account is still
    unconfirmed, the message carries a link to confirm it *and choose the
    password*, so a stranger who registered the address first never keeps the
    password they chose (account pre-hijacking).

Every message goes through the transactional outbox, in the transaction of
the action. Its ``dedupe_key`` names the account and a 10-minute (1-hour for
the "someone tried" notice) period, so a double click, or a script, sends one
message per period. Every decision is audited: the subject is the pseudonym
of the account's address (it then shows in the citizen's access log); an
address that matches no account is not recorded at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session, col, select, update

from gateway.audit.builders import account_event
from gateway.audit.events import ANONYMOUS, Actor, pseudonym
from gateway.audit.log import record
from gateway.identity import throttle
from gateway.identity.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from gateway.models import Citizen, LocalAccount, UserSession
from gateway.notify.outbox import enqueue, sender_domain
from gateway.services import Localized
from gateway.settings import Settings

ISSUER = "local"
PURPOSE = "authentification des usagers par compte local"
VERIFY_LIFETIME = timedelta(hours=48)
RESET_LIFETIME = timedelta(hours=1)
#: one message of a kind per account and period, whatever the number of clicks
MAIL_PERIOD = timedelta(minutes=10)
NOTICE_PERIOD = timedelta(hours=1)
VERIFY_PATH = "/compte/verification"
RESET_PATH = "/compte/nouveau-mot-de-passe"
SIGN_IN_PATH = "/compte/connexion"
FORGOT_PATH = "/compte/mot-de-passe-oublie"

_VERIFY_SALT = "guichet-account-verify"
_RESET_SALT = "guichet-account-reset"

Locale = Literal["fr", "en"]


class AccountProblem(ValueError):
    """A refused form value: which field, and why in words for the person."""

    def __init__(self, field: str, message: Localized) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message.en}")


INVALID_EMAIL = Localized(
    "Saisissez une adresse électronique valide, par exemple camille@exemple.fr.",
    "Enter a valid e-mail address, such as camille@example.org.",
)
SHORT_PASSWORD = Localized(
    f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères.",
    f"The password must be at least {MIN_LENGTH} characters long.",
)
LONG_PASSWORD = Localized(
    f"Le mot de passe doit compter au plus {MAX_LENGTH} caractères.",
    f"The password must be at most {MAX_LENGTH} characters long.",
)


@dataclass(frozen=True)
class SignInResult:
    citizen: Citizen | None = None
    locked: throttle.Locked | None = None
    #: the password was right but the address is not confirmed yet
    unverified: bool = False

    @property
    def ok(self) -> bool:
        return self.citizen is not None


@dataclass(frozen=True)
class ResetResult:
    """``invalid``: the link is forged, expired or already used; else the password was changed."""

    ok: bool
    citizen: Citizen | None = None


# Addresses and passwords -------------------------------------------------------------------------


def normalized_email(text: str) -> str:
    """The address as stored: checked, domain in ASCII, lower case; AccountProblem if it is not one.

    Addresses with a non-ASCII local part are refused: few mail systems take
    them, and folding their case could name another mailbox.
    """
    text = text.strip()
    if not text or len(text) > 254:
        raise AccountProblem("email", INVALID_EMAIL)
    try:
        info = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise AccountProblem("email", INVALID_EMAIL) from None
    address = (info.ascii_email or info.normalized).casefold()
    if len(address) > 254:
        raise AccountProblem("email", INVALID_EMAIL)
    return address


def check_new_password(password: str) -> None:
    """AccountProblem when ``password`` may not be chosen (length only, ASVS 2.1)."""
    if password_problem(password) is None:
        return
    raise AccountProblem("password", SHORT_PASSWORD if len(password) < MIN_LENGTH else LONG_PASSWORD)


def find(session: Session, email: str, *, for_update: bool = False) -> LocalAccount | None:
    """The account of ``email`` (any spelling), or None; an invalid address has none."""
    try:
        address = normalized_email(email)
    except AccountProblem:
        return None
    query = select(LocalAccount).where(LocalAccount.email == address)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


# Tokens -----------------------------------------------------------------------------------------


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def _fingerprint(settings: Settings, kind: str, value: str) -> str:
    return hmac.new(settings.secret_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]


def verification_token(settings: Settings, account: LocalAccount) -> str:
    return _serializer(settings, _VERIFY_SALT).dumps([account.id, _fingerprint(settings, "email", account.email)])


def reset_token(settings: Settings, account: LocalAccount) -> str:
    fingerprint = _fingerprint(settings, "password", account.password_hash)
    return _serializer(settings, _RESET_SALT).dumps([account.id, fingerprint])


def _read_token(
    settings: Settings, salt: str, token: str, lifetime: timedelta, now: datetime
) -> tuple[int, str] | None:
    """(account id, fingerprint) from a genuine token younger than ``lifetime``; None otherwise."""
    if not token or len(token) > 500:
        return None
    try:
        payload, signed_at = _serializer(settings, salt).loads(token, return_timestamp=True)
    except BadSignature:  # forged, altered, or signed for another use (salt)
        return None
    if not timedelta(minutes=-5) <= now - signed_at <= lifetime:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        return None
    return payload[0], payload[1]


def account_for_reset(
    session: Session, settings: Settings, token: str, *, now: datetime | None = None, for_update: bool = False
) -> LocalAccount | None:
    """The account a reset link is for, while the link is still good (recent, password unchanged)."""
    found = _read_token(settings, _RESET_SALT, token, RESET_LIFETIME, now or datetime.now(UTC))
    if found is None:
        return None
    account = session.get(LocalAccount, found[0], with_for_update=for_update)
    if account is None or not hmac.compare_digest(found[1], _fingerprint(settings, "password", account.password_hash)):
        return None
    return account


def verification_is_plausible(settings: Settings, token: str, *, now: datetime | None = None) -> bool:
    """Whether a verification link is genuine and recent (before offering to confirm it)."""
    return _read_token(settings, _VERIFY_SALT, token, VERIFY_LIFETIME, now or datetime.now(UTC)) is not None


# Registration and verification -----------------------------------------------------------------


def register(
    session: Session, email: str, password: str, *, locale: str, settings: Settings, origin: str
) -> Literal["created", "existing"]:
    """Create an unconfirmed account and queue its verification link, or tell the address's owner.

    Raises :class:`AccountProblem` for an invalid address or a refused
    password, before anything is written. The caller answers the person the
    same way whatever this returns.
    """
    address = normalized_email(email)
    check_new_password(password)
    now = datetime.now(UTC)
    existing = find(session, address, for_update=True)
    if existing is not None:
        _someone_tried(session, existing, password, settings=settings, origin=origin, now=now)
        return "existing"
    password_hash = hash_password(password)
    citizen = Citizen(public_id=secrets.token_hex(16), issuer=ISSUER, sub=f"pending-{secrets.token_hex(8)}",
                      claims={"locale": _locale(locale)}, created_at=now)  # fmt: skip
    session.add(citizen)
    session.flush()
    assert citizen.id is not None
    account = LocalAccount(citizen_id=citizen.id, email=address, password_hash=password_hash, created_at=now)
    session.add(account)
    session.flush()
    citizen.sub = str(account.id)
    session.add(citizen)
    _event(session, "account.create", ANONYMOUS, account, "success", settings=settings, origin=origin)
    _send_verification(session, settings, account, citizen, now=now)
    return "created"


def _someone_tried(
    session: Session, account: LocalAccount, password: str, *, settings: Settings, origin: str, now: datetime
) -> None:
    citizen = _citizen(session, account)
    if account.email_verified_at is None and verify_password(account.password_hash, password):
        # the same person again (a double click, or a lost message): the verification message again
        _event(session, "account.verify-resend", ANONYMOUS, account, "success", settings=settings, origin=origin)
        _send_verification(session, settings, account, citizen, now=now)
        return
    if account.email_verified_at is not None:
        hash_password(password)  # the work a new account costs: the answer takes as long
    _event(session, "account.create", ANONYMOUS, account, "denied", settings=settings, origin=origin)
    base = settings.gateway.public_base_url
    name = settings.gateway.name
    if account.email_verified_at is not None:
        text = Localized(
            f"Bonjour,\n\nQuelqu'un vient d'essayer de créer un compte sur « {name} » avec votre adresse "
            f"électronique, qui a déjà un compte.\n\nSi c'était vous, connectez-vous :\n{base}{SIGN_IN_PATH}\n\n"
            f"Si vous avez oublié votre mot de passe, choisissez-en un nouveau :\n{base}{FORGOT_PATH}\n\n"
            "Si ce n'était pas vous, ignorez ce message : aucun compte n'a été créé et le vôtre n'a pas changé.\n",
            f"Hello,\n\nSomeone just tried to create an account on “{name}” with your e-mail address, which "
            f"already has one.\n\nIf it was you, sign in:\n{base}{SIGN_IN_PATH}\n\n"
            f"If you forgot your password, choose a new one:\n{base}{FORGOT_PATH}\n\n"
            "If it was not you, ignore this message: no account was created and yours has not changed.\n",
        )
    else:
        link = f"{base}{RESET_PATH}?jeton={reset_token(settings, account)}"
        text = Localized(
            f"Bonjour,\n\nQuelqu'un a demandé à créer un compte sur « {name} » avec votre adresse électronique ; "
            "un compte en attente de confirmation existe déjà pour elle.\n\nSi c'était vous, confirmez votre "
            f"adresse et choisissez votre mot de passe avec ce lien (valable 1 heure) :\n{link}\n\n"
            "Si ce n'était pas vous, ignorez ce message : sans confirmation, le compte ne peut pas être utilisé.\n",
            f"Hello,\n\nSomeone asked to create an account on “{name}” with your e-mail address; an account "
            "awaiting confirmation already exists for it.\n\nIf it was you, confirm your address and choose your "
            f"password with this link (valid for 1 hour):\n{link}\n\n"
            "If it was not you, ignore this message: without confirmation the account cannot be used.\n",
        )
    subject = Localized("Création de compte avec votre adresse", "Account creation with your address")
    _mail(session, settings, account, citizen, "account.already-exists", subject, text, now=now, period=NOTICE_PERIOD)


def _send_verification(
    session: Session, settings: Settings, account: LocalAccount, citizen: Citizen, *, now: datetime
) -> None:
    link = f"{settings.gateway.public_base_url}{VERIFY_PATH}?jeton={verification_token(settings, account)}"
    name = settings.gateway.name
    text = Localized(
        f"Bonjour,\n\nPour terminer la création de votre compte sur « {name} », confirmez votre adresse "
        f"électronique avec ce lien (valable 48 heures) :\n{link}\n\n"
        "Si vous n'avez pas demandé ce compte, ignorez ce message : sans confirmation, il ne peut pas être utilisé.\n",
        f"Hello,\n\nTo finish creating your account on “{name}”, confirm your e-mail address with this link "
        f"(valid for 48 hours):\n{link}\n\n"
        "If you did not ask for this account, ignore this message: without confirmation it cannot be used.\n",
    )
    subject = Localized("Confirmez votre adresse électronique", "Confirm your e-mail address")
    _mail(session, settings, account, citizen, "account.verify-email", subject, text, now=now, period=MAIL_PERIOD)


def resend_verification(
    session: Session, email: str, *, settings: Settings, origin: str, now: datetime | None = None
) -> bool:
    """Queue a new verification link when ``email`` has an unconfirmed account; True if one was queued.

    Within one period (:data:`MAIL_PERIOD`) the message already queued stands for it.
    """
    account = find(session, email, for_update=True)
    if account is None or account.email_verified_at is not None:
        return False
    _event(session, "account.verify-resend", ANONYMOUS, account, "success", settings=settings, origin=origin)
    _send_verification(session, settings, account, _citizen(session, account), now=now or datetime.now(UTC))
    return True


def verify_email(
    session: Session, token: str, *, settings: Settings, origin: str, now: datetime | None = None
) -> Citizen | None:
    """Confirm the address a verification link names; the citizen, or None for a bad link."""
    now = now or datetime.now(UTC)
    found = _read_token(settings, _VERIFY_SALT, token, VERIFY_LIFETIME, now)
    account = session.get(LocalAccount, found[0], with_for_update=True) if found is not None else None
    if (
        found is None
        or account is None
        or not hmac.compare_digest(found[1], _fingerprint(settings, "email", account.email))
    ):
        _event(session, "account.verify", ANONYMOUS, None, "failure", settings=settings, origin=origin)
        return None
    citizen = _citizen(session, account)
    if account.email_verified_at is None:
        _confirm(session, account, citizen, now)
        _event(session, "account.verify", _actor(citizen), account, "success", settings=settings, origin=origin)
    return citizen


def _confirm(session: Session, account: LocalAccount, citizen: Citizen, now: datetime) -> None:
    account.email_verified_at = now
    citizen.email = account.email
    session.add(account)
    session.add(citizen)


# Sign-in ----------------------------------------------------------------------------------------


def sign_in(
    session: Session, email: str, password: str, *, address: str, origin: str, settings: Settings,
    locale: str | None = None,
) -> SignInResult:  # fmt: skip
    """Check an address and password under throttling; record the decision.

    An unconfirmed account is refused, and said so, only when the password is
    right: a wrong password gets the same answer as an unknown address.
    """
    account = find(session, email, for_update=True)
    keys = [f"address:{address}"]
    if account is not None:
        keys.insert(0, f"account:citizen-local:{account.id}")
    locked = throttle.check(session, keys)
    if locked is not None:
        _event(session, "auth.login", ANONYMOUS, account, "denied", settings=settings, origin=origin,
               resource="local-login/locked")  # fmt: skip
        return SignInResult(locked=locked)
    # the hash is checked whoever asks (the dummy one for an unknown address): answering takes as long either way
    if not verify_password(account.password_hash if account is not None else None, password) or account is None:
        caused = throttle.fail(session, keys)
        _event(session, "auth.login", ANONYMOUS, account, "failure", settings=settings, origin=origin)
        if caused is not None:
            _event(session, "auth.lockout", ANONYMOUS, account, "denied", settings=settings, origin=origin)
        return SignInResult(locked=caused)
    citizen = _citizen(session, account)
    if account.email_verified_at is None:
        _event(session, "auth.login", ANONYMOUS, account, "denied", settings=settings, origin=origin,
               resource="local-login/unverified")  # fmt: skip
        return SignInResult(unverified=True)
    throttle.succeed(session, keys)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        session.add(account)
    citizen.last_login_at = datetime.now(UTC)
    if locale is not None:
        citizen.claims = {**citizen.claims, "locale": _locale(locale)}
    session.add(citizen)
    _event(session, "auth.login", _actor(citizen), account, "success", settings=settings, origin=origin,
           resource="local-login/password")  # fmt: skip
    return SignInResult(citizen=citizen)


# Password reset ---------------------------------------------------------------------------------


def request_password_reset(
    session: Session, email: str, *, settings: Settings, origin: str, now: datetime | None = None
) -> bool:
    """Queue a reset link when ``email`` has a confirmed account; True if one was queued.

    The caller answers the same either way. Within one period
    (:data:`MAIL_PERIOD`) the message already queued stands for it.
    """
    now = now or datetime.now(UTC)
    account = find(session, email, for_update=True)
    if account is None or account.email_verified_at is None:
        return False
    citizen = _citizen(session, account)
    _event(session, "account.password-reset-request", ANONYMOUS, account, "success", settings=settings,
           origin=origin)  # fmt: skip
    link = f"{settings.gateway.public_base_url}{RESET_PATH}?jeton={reset_token(settings, account)}"
    name = settings.gateway.name
    text = Localized(
        f"Bonjour,\n\nUn nouveau mot de passe a été demandé pour votre compte sur « {name} ». Pour le choisir, "
        f"ouvrez ce lien (valable 1 heure, utilisable une seule fois) :\n{link}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.\n",
        f"Hello,\n\nA new password was asked for your account on “{name}”. To choose it, open this link "
        f"(valid for 1 hour, usable once):\n{link}\n\n"
        "If you did not ask for anything, ignore this message: your current password still works.\n",
    )
    subject = Localized("Choisir un nouveau mot de passe", "Choose a new password")
    _mail(session, settings, account, citizen, "account.password-reset", subject, text, now=now, period=MAIL_PERIOD)
    return True


def reset_password(
    session: Session, token: str, new_password: str, *, settings: Settings, origin: str,
    now: datetime | None = None,
) -> ResetResult:  # fmt: skip
    """Set a new password through a reset link; every open session of the citizen ends.

    Raises :class:`AccountProblem` for a refused password (nothing changes,
    the link stays good). Following the link proves the mailbox is the
    person's, so an unconfirmed address becomes confirmed.
    """
    now = now or datetime.now(UTC)
    account = account_for_reset(session, settings, token, now=now, for_update=True)
    if account is None:
        _event(session, "account.password-reset", ANONYMOUS, None, "failure", settings=settings, origin=origin)
        return ResetResult(ok=False)
    check_new_password(new_password)
    citizen = _citizen(session, account)
    account.password_hash = hash_password(new_password)
    session.add(account)
    if account.email_verified_at is None:
        _confirm(session, account, citizen, now)
    session.exec(
        update(UserSession)
        .where(col(UserSession.citizen_id) == citizen.id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    throttle.succeed(session, [f"account:citizen-local:{account.id}"])
    _event(session, "account.password-reset", _actor(citizen), account, "success", settings=settings, origin=origin)
    name = settings.gateway.name
    base = settings.gateway.public_base_url
    text = Localized(
        f"Bonjour,\n\nLe mot de passe de votre compte sur « {name} » vient d'être changé, et toutes vos sessions "
        "ouvertes ont été fermées.\n\nSi c'est vous, vous n'avez rien à faire.\n\nSinon, choisissez tout de suite "
        f"un nouveau mot de passe :\n{base}{FORGOT_PATH}\n",
        f"Hello,\n\nThe password of your account on “{name}” was just changed, and all your open sessions were "
        "closed.\n\nIf it was you, there is nothing to do.\n\nIf not, choose a new password right away:\n"
        f"{base}{FORGOT_PATH}\n",
    )
    subject = Localized("Votre mot de passe a été changé", "Your password was changed")
    dedupe = f"account.password-changed:{account.id}:{_fingerprint(settings, 'password', account.password_hash)}"
    _mail(session, settings, account, citizen, "account.password-changed", subject, text, now=now, dedupe=dedupe)
    return ResetResult(ok=True, citizen=citizen)


# Helpers ----------------------------------------------------------------------------------------


def _locale(locale: str) -> Locale:
    return "en" if locale == "en" else "fr"


def _citizen(session: Session, account: LocalAccount) -> Citizen:
    citizen = session.get(Citizen, account.citizen_id)
    assert citizen is not None  # a foreign key
    return citizen


def _mail(
    session: Session,
    settings: Settings,
    account: LocalAccount,
    citizen: Citizen,
    kind: str,
    subject: Localized,
    text: Localized,
    *,
    now: datetime,
    period: timedelta | None = None,
    dedupe: str | None = None,
) -> None:
    locale = _locale(str(citizen.claims.get("locale", "fr")))
    if dedupe is None:
        assert period is not None
        dedupe = f"{kind}:{account.id}:{int(now.timestamp() // period.total_seconds())}"
    signature = f"\n— {settings.gateway.name}\n"
    enqueue(session, kind=kind, dedupe_key=dedupe, recipient=account.email, subject=subject(locale),
            body=text(locale) + signature, locale=locale, now=now,
            domain=sender_domain(settings.smtp.sender))  # fmt: skip


def _actor(citizen: Citizen) -> Actor:
    return Actor(f"citizen:{citizen.public_id}", "citizen")


def _event(
    session: Session,
    action: str,
    actor: Actor,
    account: LocalAccount | None,
    outcome: Literal["success", "denied", "failure"],
    *,
    settings: Settings,
    origin: str,
    resource: str | None = None,
) -> None:
    target = resource or (f"local-account/{account.id}" if account is not None else "local-account")
    subject = pseudonym(settings.secret_key, "email", account.email) if account is not None else None
    event = account_event(action, actor, resource=target, purpose=PURPOSE, origin=origin, outcome=outcome,
                          subject=subject)  # fmt: skip
    record(session, event)
