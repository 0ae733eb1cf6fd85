"""The agency SDK: the message contract, the client, the batch session and proof checking.

>>> async with Client(url, jwks=jwks) as client:
...     reply = await client.request("cnav.quotient_familial", params, recipient=SIRET)
...     reply.raise_for_status()

It imports nothing of the server (no database, no signing keys, no provider, no simulator) and
is distributed on its own (``sdk/``, ``make sdk``): an agency installs only this. Proofs are
checked with the broker's published JWKS alone. ``docs/integration.md`` is the guide.
"""

from . import contract, proof
from ._batch import (
    DEFAULT_QUEUE_EXPIRES_MS,
    BatchSession,
    BatchStats,
    Pacer,
    batch_queue_name,
    check_run_id,
    message_id,
    new_run_id,
    parse_message_id,
)
from ._client import DEFAULT_URL, Client, load_jwks
from ._connection import Blocking, Publisher, Unconfirmed, close_in_time, connect, node_urls
from ._reply import ParticulierError, ProofError, Reply, ReplyError, ReplyTimeout
from ._results import (
    LOCAL_CODES,
    LOCAL_NO_REPLY,
    LOCAL_PROOF_INVALID,
    LOCAL_STATUS,
    OUTCOMES,
    BatchResult,
    local_error,
    outcome_of,
)
from ._rows import (
    LOCAL_MALFORMED_ROW,
    LOCAL_MISSING_COLUMN,
    BatchRow,
    InputFormat,
    RowMapping,
    count_rows,
    csv_header,
    detect_delimiter,
    file_digest,
    input_format,
    param_kinds,
    parse_map,
    read_rows,
)
from .contract import ErrorObject, IdentityMatching, Lane, ReplyBody, ReplyMeta, RequestBody
from .proof import CertificationError, Verifier, request_hash

__all__ = [
    "DEFAULT_QUEUE_EXPIRES_MS",
    "DEFAULT_URL",
    "LOCAL_CODES",
    "LOCAL_MALFORMED_ROW",
    "LOCAL_MISSING_COLUMN",
    "LOCAL_NO_REPLY",
    "LOCAL_PROOF_INVALID",
    "LOCAL_STATUS",
    "OUTCOMES",
    "BatchResult",
    "BatchRow",
    "BatchSession",
    "BatchStats",
    "Blocking",
    "CertificationError",
    "Client",
    "ErrorObject",
    "IdentityMatching",
    "InputFormat",
    "Lane",
    "Pacer",
    "ParticulierError",
    "ProofError",
    "Publisher",
    "Reply",
    "ReplyBody",
    "ReplyError",
    "ReplyMeta",
    "ReplyTimeout",
    "RequestBody",
    "RowMapping",
    "Unconfirmed",
    "Verifier",
    "batch_queue_name",
    "check_run_id",
    "close_in_time",
    "connect",
    "contract",
    "count_rows",
    "csv_header",
    "detect_delimiter",
    "file_digest",
    "input_format",
    "load_jwks",
    "local_error",
    "message_id",
    "new_run_id",
    "node_urls",
    "outcome_of",
    "param_kinds",
    "parse_map",
    "parse_message_id",
    "proof",
    "read_rows",
    "request_hash",
]
