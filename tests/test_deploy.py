"""The deployment files: systemd accepts the unit, and the unit and compose.yaml hand the
daemon the secrets config.example.toml names, by the names maildesk looks them up by."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from maildesk.config import load

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "contrib" / "systemd" / "maildesk.service"


def example_secrets() -> set[str]:
    """The variables config.example.toml's desk, [imap] and [smtp] take secrets from."""
    config = load(ROOT / "config.example.toml")
    named = [config.desk.secret, config.mailboxes[0].imap.password]
    return {s.env for s in (*named, config.smtp.password)}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path):
    command = shutil.which("maildesk")
    assert command is not None, "the installed maildesk (pip install -e .)"
    unit = tmp_path / UNIT.name  # verify wants the programs it names to exist here
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/maildesk", command))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, ""), "no error and no warning"


def test_the_unit_and_compose_give_the_secrets_the_config_names():
    unit = UNIT.read_text()
    credentials = set(re.findall(r"^LoadCredential=(\w+):", unit, re.M))
    assert credentials == example_secrets()
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    worker = compose["services"]["worker"]
    assert set(worker["secrets"]) == example_secrets() | {"MAILDESK_DATABASE_PASSWORD"}
    assert worker["deploy"]["replicas"] == 2 and worker["command"] == ["run"]
    assert compose["services"]["init"]["command"] == ["init"]
    assert worker["depends_on"]["init"]["condition"] == "service_completed_successfully"
