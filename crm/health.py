"""What /healthz says of the CRM sync: per CRM configured or with rows waiting, its backlog and last success.

A CRM that is down or behind does not make the portal unhealthy — prospects are served, and the rows wait
(``crm/sync/outbox.py``) — so this check is always ok; it reports, for whoever watches."""

from __future__ import annotations

from typing import Any

from crm.sync.outbox import backlog


def check_crm() -> dict[str, Any]:
    report: dict[str, Any] = {"ok": True}
    for crm, row in backlog().items():
        if not row["configured"] and not row["waiting"]:
            continue
        last = row["last_success_at"]
        report[crm] = {
            "configured": row["configured"],
            "last_success_at": last.isoformat() if last else None,
            "waiting": row["waiting"],
            "oldest_waiting_seconds": row["oldest_waiting_seconds"],
            "failed": row["failed"],
            "dead": row["dead"],
        }
        if row["api_limit"]:
            report[crm]["api_usage"] = f"{row['api_used']}/{row['api_limit']}"
    return report
