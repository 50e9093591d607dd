"""``[instance] registrations`` (with the older boolean form) and the ``[email]`` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedinode.config import ConfigError, InstanceConfig, load_config


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> InstanceConfig:
    path = tmp_path / "fedinode.toml"
    path.write_text(text)
    return load_config(path, environ=env or {}).instance


@pytest.mark.parametrize(
    ("toml", "mode", "enabled", "approval"),
    [
        ("", "closed", False, False),
        ('registrations = "open"', "open", True, False),
        ('registrations = "approval"', "approval", True, True),
        ('registrations = "invite"', "invite", False, False),
        ('registrations = "closed"', "closed", False, False),
        # the older boolean form
        ("registrations = true", "open", True, False),
        ("registrations = false", "closed", False, False),
        ("registrations = true\napproval_required = true", "approval", True, True),
        ('registrations = "open"\napproval_required = true', "approval", True, True),
        ('registrations = "invite"\napproval_required = true', "invite", False, False),
    ],
)
def test_registration_modes(
    tmp_path: Path, toml: str, mode: str, enabled: bool, approval: bool
) -> None:
    instance = _load(tmp_path, f"[instance]\n{toml}\n")
    assert instance.registrations == mode
    assert instance.registrations_enabled is enabled
    assert instance.approval_required is approval


@pytest.mark.parametrize(
    ("value", "mode"),
    [("approval", "approval"), ("true", "open"), ("false", "closed"), ("Invite", "invite")],
)
def test_registrations_from_the_environment(tmp_path: Path, value: str, mode: str) -> None:
    instance = _load(tmp_path, "", {"FEDINODE_INSTANCE__REGISTRATIONS": value})
    assert instance.registrations == mode


@pytest.mark.parametrize("bad", ['"maybe"', "1", '["open"]'])
def test_a_bad_mode_names_the_key(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, f"[instance]\nregistrations = {bad}\n")
    assert caught.value.key == "instance.registrations"
    assert "open, approval, invite, closed" in str(caught.value)


def test_email_settings(tmp_path: Path) -> None:
    path = tmp_path / "fedinode.toml"
    path.write_text(
        '[email]\nhost = "smtp.example"\nport = 465\ntls = "tls"\nusername = "u"\n'
        'password = "p"\nfrom = "noreply@example.org"\n'
    )
    email = load_config(path, environ={}).email
    assert email.enabled and (email.host, email.port, email.tls) == ("smtp.example", 465, "tls")
    assert (email.username, email.password, email.from_address) == ("u", "p", "noreply@example.org")
    assert not load_config(None, environ={}).email.enabled  # no host: no mail
    env = {"FEDINODE_EMAIL__HOST": "127.0.0.1", "FEDINODE_EMAIL__FROM": "a@b.example"}
    from_env = load_config(None, environ=env).email
    assert from_env.enabled and from_env.from_address == "a@b.example"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('tls = "ssl"', "email.tls"),
        ("port = 0", "email.port"),
        ('from = "nobody"', "email.from"),
        ('sender = "x"', "email.sender"),
        ("max_attempts = 0", "email.max_attempts"),
    ],
)
def test_bad_email_settings_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "fedinode.toml"
    path.write_text(f"[email]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == key
