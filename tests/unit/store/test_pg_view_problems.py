"""Why a shared store cannot be shown, told from psycopg's errors (store.pg_view._problem): libpq's
connection failures carry no SQLSTATE, so a refused login and a missing database are told by libpq's
words; the server's own errors by their class."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from wsdmon.store import StoreUnavailableError
from wsdmon.store.pg_view import SharedViewError, ViewProblem, _problem, _view_error

_FAILED = 'connection failed: connection to server at "10.0.0.5", port 5432 failed: '


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (psycopg.OperationalError(_FAILED + 'FATAL:  password authentication failed for user "desk"'),
         ViewProblem.LOGIN_REFUSED),
        (psycopg.OperationalError(_FAILED + "fe_sendauth: no password supplied"), ViewProblem.LOGIN_REFUSED),
        (psycopg.OperationalError(_FAILED + 'FATAL:  role "desk" does not exist'), ViewProblem.LOGIN_REFUSED),
        (psycopg.OperationalError(_FAILED + 'FATAL:  database "w" does not exist'), ViewProblem.NO_DATABASE),
        (psycopg.OperationalError(_FAILED + "Connection refused"), ViewProblem.UNREACHABLE),
        (psycopg.OperationalError(_FAILED + "timeout expired"), ViewProblem.UNREACHABLE),
        (errors.InsufficientPrivilege("permission denied for table jobs"), ViewProblem.NO_RIGHT),
        (errors.UndefinedTable('relation "schema_version" does not exist'), ViewProblem.NOT_A_STORE),
        (psycopg.ProgrammingError('invalid connection option "hots"'), ViewProblem.BAD_LOCATION),
        (errors.DivisionByZero("division by zero"), ViewProblem.OTHER),
    ],
)  # fmt: skip
def test_problem_of_each_error(error: psycopg.Error, problem: ViewProblem) -> None:
    assert _problem(error) is problem


def test_an_unreachable_server_is_one_a_reader_may_retry() -> None:
    gone = _view_error(psycopg.OperationalError(_FAILED + "Connection refused"), "postgresql://desk:***@db/w")
    assert isinstance(gone, StoreUnavailableError)
    assert str(gone).startswith("postgresql://desk:***@db/w: connection failed")
    refused = _view_error(errors.InsufficientPrivilege("permission denied for table jobs"), "here")
    assert isinstance(refused, SharedViewError)
    assert not isinstance(refused, StoreUnavailableError)
    assert refused.detail == "permission denied for table jobs"
