"""The database: engines, tenant-bound sessions, the migration gate.

A session is opened *for a commune* (``Database.session(commune=...)``): every
ORM query on a :class:`~gateway.models.CommuneScoped` table then gets
``WHERE commune = :slug`` added, and flushing a row of another commune is
refused. A session opened for no commune may not touch those tables at all,
unless it says ``all_communes=True`` (migrations, the CLI's syndicate-wide
views). Deny by default, enforced in the store rather than in each route.

The store knows nothing of what sits above it: work that must commit with a
transaction (the audit log's append) is registered with :func:`on_commit` by
the module that queues it, and a session that would commit with queued work
no hook took is rolled back instead (:class:`UnfinishedWork`).

Reads that write nothing open :meth:`Database.read_session` instead: on SQLite
a deferred transaction on connections that refuse writes (``query_only``), so
in WAL mode it never waits for the write lock a writer holds; on PostgreSQL a
``READ ONLY`` transaction. A read session refuses to flush anything
(:class:`ReadOnlySession`), so a read that would queue an audit entry fails
instead of showing data with no record of it.

The migration gate (:meth:`Database.require_migrated`, at every worker's
start and in the readiness check) reads the scripts' head and the database's
revision without importing Alembic, a tenth of a worker's start (see
``docs/performance.md``); Alembic, imported only to migrate, remains the
authority whenever a script or the version table is anything but a plain
chain (:func:`migrations_head`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlmodel import Session, SQLModel, create_engine

import gateway.models  # noqa: F401  (registers every table on SQLModel.metadata)

if TYPE_CHECKING:  # Alembic is imported to migrate, not to start (see the module's docstring)
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SCOPE_KEY = "guichet.commune"
ALL_KEY = "guichet.all_communes"
PENDING_KEY = "guichet.pending_work"
READ_ONLY_KEY = "guichet.read_only"
#: set on the session of a group commit's batch (:mod:`gateway.group_commit`): counters are taken once per batch
BATCH_KEY = "guichet.batch"
#: the connection a batch's session holds for its whole transaction (:func:`connection_of`)
CONNECTION_KEY = "guichet.connection"

P = ParamSpec("P")
T = TypeVar("T")
#: work to do in a session's transaction just before it commits
CommitHook = Callable[[Session], None]


class TenancyError(RuntimeError):
    """Code tried to reach commune-scoped data without saying for which commune."""


#: seconds a SQLite transaction waits for another's write lock before the database raises (``[database]``)
DEFAULT_LOCK_WAIT = 5.0
#: threads a worker process runs database work on (:meth:`Database.run`); each pool holds as many connections
#: plus as many again in overflow (PostgreSQL's reads share the write pool; a thread may hold a read and a write
#: session at once), so no thread ever waits for a connection: requests queue, in order, for a thread instead.
#: anyio's default of 40 threads against SQLAlchemy's default 5 + 10 connections made threads queue in the pool.
DATABASE_THREADS = 16
_POOL = {"pool_size": DATABASE_THREADS, "max_overflow": DATABASE_THREADS}
_LIMITER: RunVar[CapacityLimiter] = RunVar("guichet_database_threads")


class NotMigrated(RuntimeError):
    def __init__(self, url: str, current: str | None, head: str | None) -> None:
        self.current = current
        self.head = head
        shown = make_url(url).render_as_string(hide_password=True)
        super().__init__(
            f"the database {shown} is at migration {current or 'none'} but this version of Guichet needs {head}: "
            "run `guichet db upgrade` first"
        )


def make_engine(url: str, *, lock_wait_seconds: float = DEFAULT_LOCK_WAIT, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # ``timeout``: how long a statement waits for another connection's write lock (SQLite's busy timeout)
        connect_args = {"check_same_thread": False, "timeout": lock_wait_seconds}
        engine = create_engine(url, connect_args=connect_args, **(_pool_for(parsed) | kwargs))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **(_POOL | kwargs))


def _pool_for(parsed: URL) -> dict[str, int]:
    """The pool size for a SQLite file; an in-memory database keeps SQLAlchemy's one connection per thread."""
    return _POOL if parsed.database and parsed.database != ":memory:" else {}


def make_read_engine(url: str, engine: Engine, *, lock_wait_seconds: float = DEFAULT_LOCK_WAIT) -> Engine:
    """The engine read sessions use: writes refused by the database itself, and no write lock taken.

    SQLite: a pool of its own whose connections are ``query_only`` and begin
    deferred transactions (in WAL mode a reader works on a snapshot while a
    writer writes). An in-memory SQLite database exists once per connection,
    so there the read sessions share ``engine``. PostgreSQL: ``engine``'s pool,
    each transaction ``READ ONLY``.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return engine.execution_options(postgresql_readonly=True)
    if not parsed.database or parsed.database == ":memory:":
        return engine
    reader = create_engine(url, connect_args={"check_same_thread": False, "timeout": lock_wait_seconds}, **_POOL)
    event.listen(reader, "connect", _sqlite_pragmas)
    event.listen(reader, "connect", _sqlite_query_only)
    event.listen(reader, "begin", _sqlite_begin_deferred)
    return reader


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions itself (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


@functools.cache
def _scoped_models() -> tuple[type, ...]:
    """The commune-scoped tables; every table is mapped once ``gateway.models`` is imported (above)."""
    return tuple(
        mapper.class_ for mapper in SQLModel._sa_registry.mappers if getattr(mapper.class_, "__commune_scoped__", False)
    )


def _tables_in(statement: Any) -> set[str]:
    """Every table a statement reads or writes, subqueries included."""
    return {element.name for element in visitors.iterate(statement) if isinstance(element, Table)}


@functools.cache
def _scoped_tables() -> frozenset[str]:
    return frozenset(model.__tablename__ for model in _scoped_models())  # type: ignore[attr-defined]


@event.listens_for(Session, "do_orm_execute")
def _restrict_to_commune(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    info = state.session.info
    if info.get(ALL_KEY):
        return
    slug = info.get(SCOPE_KEY)
    if slug is not None:  # each scoped table the statement holds, at any depth, is filtered; the others are untouched
        state.statement = state.statement.options(*_commune_criteria(slug))
        return
    scoped = [mapper.class_ for mapper in state.all_mappers if getattr(mapper.class_, "__commune_scoped__", False)]
    # a scoped table may also sit in a subquery under a statement with no entity of its own (a count, say)
    nested = [] if scoped else sorted(_scoped_tables() & _tables_in(state.statement))
    if scoped or nested:
        names = ", ".join(sorted({model.__name__ for model in scoped} | set(nested)))
        raise TenancyError(f"query on {names} from a session opened for no commune")


@functools.lru_cache(maxsize=256)
def _commune_criteria(slug: str) -> tuple[Any, ...]:
    """The options keeping a statement to one commune's rows, made once per commune.

    Made per statement, these options were a third of a one-row query's
    cost. A criterion is a function of the class (the ORM applies it to each
    alias and join of the table); the commune is a tracked closure value,
    bound at execution, so one compiled statement serves every commune.
    """
    return tuple(
        with_loader_criteria(model, lambda cls: cls.commune == slug, include_aliases=True, track_closure_variables=True)
        for model in _scoped_models()
    )


@event.listens_for(Session, "before_flush")
def _refuse_foreign_rows(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        refuse_foreign_row(session, obj, getattr(obj, "commune", None))


def connection_of(session: Session) -> Connection:
    """The connection of ``session``'s transaction for a Core statement.

    A batch's session holds one connection for its whole transaction, kept in
    its info: asking the session again costs about 0.1 ms each time (its
    transaction state machine), which a batch would pay for every member.
    The session emits a SAVEPOINT only when asked for its connection, so
    :func:`savepoint` asks at once: a statement run through the held
    connection inside a savepoint is undone with it.
    """
    held: Connection | None = session.info.get(CONNECTION_KEY)
    return held if held is not None else session.connection()


def refuse_foreign_row(session: Session, obj: object, commune: object) -> None:
    """Raise :class:`TenancyError` when ``obj``, a row of ``commune``, is not of the session's commune.

    The flush checks every object it writes; code writing a row around the
    flush (a Core statement) calls this itself.
    """
    if getattr(obj, "__commune_scoped__", False) and not session.info.get(ALL_KEY):
        slug = session.info.get(SCOPE_KEY)
        if commune != slug:
            raise TenancyError(f"{type(obj).__name__} of commune {commune!r} written from a session for {slug!r}")


class ReadOnlySession(RuntimeError):
    """A read session (:meth:`Database.read_session`) was about to write: nothing is written."""


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_reading(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY_KEY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySession("a read session was about to write: open Database.session() to write")


class UnfinishedWork(RuntimeError):
    """A session was about to commit with queued work no commit hook took: the transaction is rolled back."""


_commit_hooks: list[CommitHook] = []


def on_commit(hook: CommitHook) -> CommitHook:
    """Call ``hook(session)`` in every session's transaction just before it commits, after those registered before.

    The floors above the store register here what must commit with the action
    or not at all (the audit log's append). Registering the same function
    twice keeps the first place. Usable as a decorator.
    """
    if hook not in _commit_hooks:
        _commit_hooks.append(hook)
    return hook


def pending_work(session: Session, kind: str) -> list[Any]:
    """The session's queue of ``kind`` work, which a commit hook must drain (see :func:`take_pending_work`)."""
    queues: dict[str, list[Any]] = session.info.setdefault(PENDING_KEY, {})
    return queues.setdefault(kind, [])


def take_pending_work(session: Session, kind: str) -> list[Any]:
    """Empty the session's queue of ``kind`` work and return what it held."""
    queues: dict[str, list[Any]] = session.info.get(PENDING_KEY, {})
    return queues.pop(kind, [])


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """Run the block in a SAVEPOINT of ``session``'s transaction: if it raises, only its own work is undone.

    Its rows are rolled back to the savepoint, and the work it queued for the
    commit hooks (:func:`pending_work`: its audit events) is dropped with them,
    so nothing is recorded for what was not kept. The exception goes on.
    """
    queues: dict[str, list[Any]] = session.info.setdefault(PENDING_KEY, {})
    before = {kind: len(queue) for kind, queue in queues.items()}
    try:
        with session.begin_nested():
            session.connection()  # SAVEPOINT now: Core statements through connection_of() run inside it
            yield
    except BaseException:
        for kind, queue in queues.items():
            del queue[before.get(kind, 0) :]
        raise


def count_in_batch(session: Session, kind: str, key: Any, take: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Count one use of ``key``, taking the database's counter once per batch; the count and what ``take`` gave.

    Outside a batch, ``take()`` is the counting: one statement that adds one
    and returns ``(count, extra)``. In a batch (:data:`BATCH_KEY`) the first
    use of ``key`` runs it; the next ones are counted here, queued as pending
    ``kind`` work, which a commit hook adds to the row once (see
    :func:`uses_to_add`). A member rolled back to its savepoint takes its uses
    with it (:func:`savepoint`), so the counts stay what one transaction each
    would have made: gap-free numbers, limits counting only what was kept.
    """
    if not session.info.get(BATCH_KEY):
        return take()
    uses = pending_work(session, kind)
    earlier = [use for use in uses if use[0] == key]
    if not earlier:
        count, extra = take()
        uses.append((key, count, extra))
        return count, extra
    _key, first, extra = earlier[0]
    uses.append((key, None, extra))
    return first + len(earlier), extra


def uses_to_add(session: Session, kind: str) -> dict[Any, int]:
    """Drain the uses :func:`count_in_batch` counted without writing: how many to add to each key's row."""
    added: dict[Any, int] = {}
    for key, first, _extra in take_pending_work(session, kind):
        if first is None:
            added[key] = added.get(key, 0) + 1
    return added


@event.listens_for(Session, "before_commit")
def _run_commit_hooks(session: Session) -> None:
    """Do the registered work in the committing transaction; refuse to commit if queued work is left over."""
    if session.in_nested_transaction():
        return  # a savepoint: the work is done once, when the outer transaction commits
    if session.info.get(READ_ONLY_KEY) and any(session.info.get(PENDING_KEY, {}).values()):
        raise ReadOnlySession("work was queued on a read session (an audit entry?): record it in Database.session()")
    for hook in list(_commit_hooks):
        hook(session)
    left = {kind: len(queue) for kind, queue in session.info.get(PENDING_KEY, {}).items() if queue}
    if left:
        shown = ", ".join(f"{count} {kind}" for kind, count in sorted(left.items()))
        raise UnfinishedWork(f"a session was committing with queued work no commit hook took ({shown}): rolled back")


@contextmanager
def joined_session(session: Session, *, commune: str) -> Iterator[Session]:
    """A session for another ``commune`` inside ``session``'s transaction: one commit for both, or neither.

    For the one place a request crosses communes (a request shared with another
    member commune, docs/shared_requests.md): each side's rows are written
    through a session bound to their own commune, so the commune filter holds
    on both, and the two sides commit (or roll back) together. Its commit hooks
    run when its block ends, inside the outer transaction (a savepoint).
    """
    if session.info.get(READ_ONLY_KEY):
        raise ReadOnlySession("a read session cannot be joined by a writing one")
    with Session(bind=session.connection(), expire_on_commit=False, join_transaction_mode="create_savepoint") as other:
        other.info[SCOPE_KEY] = commune
        other.info[ALL_KEY] = False
        with other.begin():
            yield other


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock at BEGIN: a transaction that reads then writes
    would otherwise fail at once (not wait) when another process wrote in between."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    """A read session's BEGIN: no lock until the first read, and in WAL mode never the write lock."""
    connection.exec_driver_sql("BEGIN")


def _limiter() -> CapacityLimiter:
    """This event loop's limit on threads doing database work (one per loop, as anyio's own default limiter)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(DATABASE_THREADS)
        _LIMITER.set(limiter)
        return limiter


class Database:
    """One engine and the ways to open sessions on it."""

    def __init__(self, url: str, *, lock_wait_seconds: float = DEFAULT_LOCK_WAIT) -> None:
        self.url = url
        self.engine = make_engine(url, lock_wait_seconds=lock_wait_seconds)
        self.read_engine = make_read_engine(url, self.engine, lock_wait_seconds=lock_wait_seconds)

    @contextmanager
    def session(self, *, commune: str | None = None, all_communes: bool = False) -> Iterator[Session]:
        """A session bound to one commune (or, explicitly, to all of them).

        Commits when the block ends normally, rolls back when it raises: one
        block, one transaction. The commit hooks (:func:`on_commit`) run just
        before the commit, in the same transaction: the audit record commits
        with the action, or neither does.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            session.info[SCOPE_KEY] = commune
            session.info[ALL_KEY] = all_communes
            with session.begin():
                yield session

    @contextmanager
    def read_session(self, *, commune: str | None = None, all_communes: bool = False) -> Iterator[Session]:
        """A session that only reads, bound to one commune (or all) as :meth:`session` is.

        It never takes SQLite's write lock, so it does not wait behind writers;
        a write through it raises :class:`ReadOnlySession` (the database refuses
        one sent around the ORM). It ends by committing, so work queued on it for
        a commit hook (an audit entry) fails there instead of being dropped:
        a read that must be recorded reads here, then records in a short
        :meth:`session` of its own, and shows nothing until that one committed.
        """
        with Session(self.read_engine, expire_on_commit=False) as session:
            session.info[SCOPE_KEY] = commune
            session.info[ALL_KEY] = all_communes
            session.info[READ_ONLY_KEY] = True
            with session.begin():
                yield session

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work off the event loop, on at most :data:`DATABASE_THREADS` threads at once."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=_limiter())

    async def run_racing(self, work: Callable[[], T], /) -> T:
        """Run ``work`` (which opens its own transaction) off the event loop; once more if it lost a race.

        Two transactions racing on a unique key (the same address registered twice
        at once, the same first sign-in twice) fail the second one on PostgreSQL;
        run again, it finds what the first wrote and answers alike.
        """
        try:
            return await self.run(work)
        except IntegrityError:
            return await self.run(work)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine.pool is not self.engine.pool:  # SQLite's readers have a pool of their own
            self.read_engine.dispose()

    # Migrations -----------------------------------------------------------

    def alembic_config(self) -> AlembicConfig:
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        return config

    def migration_state(self) -> tuple[str | None, str | None]:
        """The database's revision and the scripts' head, as Alembic states them."""
        head = migrations_head()
        with self.engine.connect() as connection:
            stored = stored_revisions(connection)
        if head is not None and len(stored) <= 1:
            return (stored[0] if stored else None), head
        return self._alembic_state()  # branches: Alembic answers, or raises its own error

    def _alembic_state(self) -> tuple[str | None, str | None]:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        return current, head

    def require_migrated(self) -> None:
        current, head = self.migration_state()
        if current != head:
            raise NotMigrated(self.url, current, head)

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(self.alembic_config(), revision)


_REVISION = re.compile(r"^revision(?:: *str)? *= *[\"'](\w+)[\"'] *$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:: *str \| None)? *= *(?:None|[\"'](\w+)[\"']) *$", re.MULTILINE)
_NO_BRANCH = re.compile(r"^(branch_labels|depends_on)(?:: *[^=\n]+)? *= *None *$", re.MULTILINE)


@functools.cache
def migrations_head(versions: Path = MIGRATIONS_DIR / "versions") -> str | None:
    """The newest script's revision, read from the scripts' text; None unless they are one plain chain.

    Every script must state its ``revision``, its ``down_revision`` (one, or
    None for the first) and no branch label or dependency, and exactly one
    revision must be no other's parent: then that one is the head, as Alembic
    finds it. Anything else (a merge, a branch) returns None and the caller
    asks Alembic. The scripts do not change under a running process: read once.
    """
    parents: dict[str, str | None] = {}
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1 or len(_NO_BRANCH.findall(source)) != 2 or revision[0] in parents:
            return None
        parents[revision[0]] = down[0] or None
    roots = [revision for revision, parent in parents.items() if parent is None]
    heads = set(parents) - set(parents.values())
    if len(roots) != 1 or len(heads) != 1 or not set(parents.values()) - {None} <= set(parents):
        return None
    return heads.pop()


def stored_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions in the database's ``alembic_version`` table: none before any migration, one after."""
    if not inspect(connection).has_table("alembic_version"):
        return ()
    return tuple(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
