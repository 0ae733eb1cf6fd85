"""The audit journal: one tamper-evident row per request answered or refused."""

from .entry import JournalEntry, reply_digest
from .lookup import Access, DailyCount, accesses_by_agency, accesses_to_subject, daily_counts
from .pseudonym import agent_pseudonym, pseudonym
from .purge import PurgeError, PurgeResult, parse_age, purge
from .settings import JournalSettings, journal_key, pseudonym_key
from .verify import Problem, Verification, verify
from .writer import Journal, JournalError, JournalStats, JournalUnavailable

__all__ = [
    "Access",
    "DailyCount",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalSettings",
    "JournalStats",
    "JournalUnavailable",
    "Problem",
    "PurgeError",
    "PurgeResult",
    "Verification",
    "accesses_by_agency",
    "accesses_to_subject",
    "agent_pseudonym",
    "daily_counts",
    "journal_key",
    "parse_age",
    "pseudonym",
    "pseudonym_key",
    "purge",
    "reply_digest",
    "verify",
]
