"""Prometheus rules and alerts: promtool checks them and runs their unit tests."""

import subprocess

import pytest

from devstack import monitoring

RULES = monitoring.RULES


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert monitoring.PROMTOOL_BIN.exists(), "promtool missing: `make install` unpacks it"
    return subprocess.run(
        [str(monitoring.PROMTOOL_BIN), *args], capture_output=True, text=True, cwd=RULES
    )


@pytest.mark.integration
def test_rules_and_alerts_are_valid() -> None:
    checked = _promtool("check", "rules", *monitoring.RULE_FILES)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.integration
def test_each_alert_fires_on_its_situation_only() -> None:
    tested = _promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


@pytest.mark.integration
def test_every_alert_has_a_runbook_section() -> None:
    import yaml

    doc = (RULES.parents[1] / "docs" / "operations.md").read_text().lower()
    alerts = yaml.safe_load((RULES / "alerts.yml").read_text())["groups"][0]["rules"]
    for alert in alerts:
        anchor = alert["annotations"]["runbook"].split("#", 1)[1]
        assert f"## {alert['alert'].lower()}" in doc, anchor
        assert {"summary", "description", "runbook"} <= set(alert["annotations"])
