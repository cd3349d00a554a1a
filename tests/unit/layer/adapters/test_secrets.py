"""The signing secret comes from Secrets Manager, once per container."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from aimanager.adapters.secrets import SecretUnavailable, forget_signing_secret, signing_secret
from tests.unit.aws import SIGNING_SECRET, aws_world


class CountingClient:
    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.get_secret_value(**kwargs)


def test_the_secret_is_read_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the stack's secret
    with aws_world(monkeypatch):
        client = CountingClient(boto3.client("secretsmanager"))
        # When two requests of the same container need it
        first, second = signing_secret(client), signing_secret(client)
        # Then Secrets Manager was asked once
        assert first == second == SIGNING_SECRET.encode() and client.calls == 1


def test_a_missing_or_weak_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_signing_secret()
    monkeypatch.delenv("SIGNING_SECRET_ARN", raising=False)
    with pytest.raises(SecretUnavailable):
        signing_secret()
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="eu-west-3").create_secret(Name="s", SecretString="short")
        monkeypatch.setenv("SIGNING_SECRET_ARN", arn["ARN"])
        with pytest.raises(SecretUnavailable):
            signing_secret(boto3.client("secretsmanager", region_name="eu-west-3"))
    forget_signing_secret()
