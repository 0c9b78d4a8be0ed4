from __future__ import annotations

import pytest

from dispatcher import errors


@pytest.mark.parametrize(
    ("error_type", "action_base"),
    [
        (errors.ConnectFailed, errors.RetryableError),
        (errors.ProviderUnavailable, errors.RetryableError),
        (errors.RateLimited, errors.RetryableError),
        (errors.ResponseTimedOut, errors.AmbiguousOutcome),
        (errors.ConnectionLost, errors.AmbiguousOutcome),
        (errors.UnexpectedResponse, errors.AmbiguousOutcome),
        (errors.DuplicateSubmission, errors.AmbiguousOutcome),
        (errors.NotAuthenticated, errors.AccountError),
        (errors.BadCredentials, errors.AccountError),
        (errors.AccessDenied, errors.AccountError),
    ],
)
def test_each_error_belongs_to_exactly_one_action(error_type: type, action_base: type) -> None:
    actions = [errors.RetryableError, errors.AmbiguousOutcome, errors.BatchRejected, errors.AccountError]
    assert [base for base in actions if issubclass(error_type, base)] == [action_base]
    assert issubclass(error_type, errors.DispatcherError)


def test_invalid_message_names_field_value_and_rule() -> None:
    problem = errors.Problem(field="ttl", value=5, rule="must be between 60 and 86400 seconds")
    error = errors.InvalidMessage([problem])

    assert str(error) == "ttl=5: must be between 60 and 86400 seconds"
    assert error.problems == (problem,)
    assert isinstance(error, ValueError)


def test_rate_limited_carries_the_providers_hint() -> None:
    error = errors.RateLimited("slow down", provider="bsg", retry_after_s=2.0)
    assert error.retry_after_s == 2.0
    assert str(error) == "bsg: slow down"
