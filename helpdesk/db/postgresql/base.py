"""PostgreSQL backend that carries the current tenant into every transaction.

Row-level security policies (see ``helpdesk.tenancy.rls``) read ``app.tenant_id`` and
``app.rls_bypass``. They are set with ``set_config(..., true)`` (``SET LOCAL``) inside the
transaction that runs the query, never per session, so a pooled connection cannot carry
one tenant's setting into another request.

- Inside ``atomic()``: applied once per transaction (again after a savepoint rollback,
  which undoes ``SET LOCAL``) and whenever the tenant context changes.
- In autocommit: the query and the ``set_config`` run together in a short transaction.
"""
from django.db import connections, transaction
from django.db.backends.postgresql import base
from django.db.transaction import TransactionManagementError

from helpdesk.db.commit_batch import CommitBatch
from helpdesk.tenancy.context import rls_settings

_SET = "SELECT set_config('app.tenant_id', %s, true), set_config('app.rls_bypass', %s, true)"
# The same, for a transaction whose commit need not wait for the disk (helpdesk.db.durability).
_SET_NO_WAIT = _SET + ", set_config('synchronous_commit', 'off', true)"


# Statements PostgreSQL refuses inside a transaction block run as they are.
_NO_TRANSACTION = ("CREATE DATABASE", "DROP DATABASE", "VACUUM", "CREATE INDEX CONCURRENTLY",
                   "DROP INDEX CONCURRENTLY", "REINDEX", "ALTER SYSTEM")


def _rls_execute_wrapper(execute, sql, params, many, context):
    wrapper: DatabaseWrapper = context["connection"]
    if wrapper.alias not in connections.databases:
        return execute(sql, params, many, context)  # Django's maintenance connection (__no_db__)
    wanted = rls_settings()
    if wrapper.in_atomic_block:
        if wrapper.rls_applied != wanted:
            with wrapper.connection.cursor() as cursor:
                cursor.execute(_SET_NO_WAIT if wrapper.commit_no_wait else _SET, wanted)
            wrapper.rls_applied = wanted
        return execute(sql, params, many, context)
    if isinstance(sql, str) and sql.lstrip()[:30].upper().startswith(_NO_TRANSACTION):
        return execute(sql, params, many, context)
    with transaction.atomic(using=wrapper.alias):
        with wrapper.connection.cursor() as cursor:
            cursor.execute(_SET, wanted)
        wrapper.rls_applied = wanted
        return execute(sql, params, many, context)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rls_applied: tuple[str, str] | None = None
        self.commit_no_wait = False
        self.commit_batch: CommitBatch | None = None
        self.execute_wrappers.append(_rls_execute_wrapper)

    def connect(self):
        # A new server session has none of the per-transaction settings (a connection that
        # died inside a transaction must not leave them marked as sent).
        self.rls_applied = None
        self.commit_no_wait = False
        return super().connect()

    def commit_without_waiting_for_disk(self) -> None:
        """``SET LOCAL synchronous_commit = off`` for the current transaction, sent with the
        tenant's settings at its first statement (no round trip of its own), or at once
        when the transaction has already run statements."""
        if not self.in_atomic_block:
            raise TransactionManagementError("commit_without_waiting_for_disk() needs a transaction")
        if self.commit_no_wait:
            return
        self.commit_no_wait = True
        if self.rls_applied is not None:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")

    def run_and_clear_commit_hooks(self):
        # Messages the hooks publish are coalesced (``helpdesk.db.commit_batch``). A hook whose
        # own transaction commits (an eager task) adds to the batch of the commit running it.
        if self.commit_batch is not None:
            return super().run_and_clear_commit_hooks()
        self.commit_batch = CommitBatch()
        try:
            super().run_and_clear_commit_hooks()
        finally:
            batch, self.commit_batch = self.commit_batch, None
            batch.flush()

    def _commit(self):
        self.rls_applied = None
        self.commit_no_wait = False
        return super()._commit()

    def _rollback(self):
        self.rls_applied = None
        self.commit_no_wait = False
        return super()._rollback()

    def _savepoint_rollback(self, sid):
        # ROLLBACK TO SAVEPOINT undoes SET LOCAL done after the savepoint: re-apply next time.
        # (Reset after the rollback: the statement itself must not trigger set_config in an
        # aborted transaction.)
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self.rls_applied = None

    def _close(self):
        self.rls_applied = None
        return super()._close()
