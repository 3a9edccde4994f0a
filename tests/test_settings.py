"""campaigns.settings: weak secrets, the setting lists, local or public."""

from __future__ import annotations

import pytest

from campaigns.errors import ConfigError
from campaigns.settings import DEV_ADDRESS_KEY, DEV_SECRET_KEY, check_secrets, load_settings, secret_problem

STRONG = "Kq8Zt3Vm6Xp1Rw9Yn4Lb7Hc2Fd5Gs0Ja"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (DEV_SECRET_KEY, "development"),
        ("Kq8Zt3Vm6Xp1", "shorter than 32"),
        ("ab" * 20, "too few different"),
        (" " + STRONG, "whitespace"),
        (STRONG + "\n", "whitespace"),
        ("my-outreach-secret-for-2026-Kq8Zt3V", "placeholder"),
        ("CHANGE_ME_" + STRONG, "placeholder"),
    ],
)
def test_weak_secrets_are_named(key, problem):
    assert problem in (secret_problem(key, DEV_SECRET_KEY) or "")


def test_a_long_random_secret_passes():
    assert secret_problem(STRONG, DEV_SECRET_KEY) is None


@pytest.mark.parametrize(
    ("base_url", "local"),
    [
        ("http://localhost:8000", True),
        ("http://127.0.0.1:8000", True),
        ("http://[::1]:8000", True),
        ("http://outreach.localhost", True),
        ("https://outreach.example.org", False),
        ("http://localhost.example.org", False),
    ],
)
def test_only_this_machine_is_local(base_url, local):
    assert load_settings(base_url=base_url).is_local is local


def test_check_secrets_names_the_setting_in_one_line():
    with pytest.raises(ConfigError) as err:
        check_secrets(load_settings(secret_key=STRONG, address_key=DEV_ADDRESS_KEY), "real sending")
    assert str(err.value).startswith("setting OUTREACH_ADDRESS_KEY: still the built-in development value; real sending")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["trusted_proxies", "metrics_allow"])
def test_a_bad_network_in_a_list_setting_is_named(name):
    with pytest.raises(ConfigError, match="not an IP address or network"):
        load_settings(**{name: "10.0.0.0/8, proxy.internal"})
