"""The one error hierarchy of Satya Agent.

Adapters translate HTTP, database and vendor errors into these classes; the
journey maps them to recovery branches by their ``code``; the user sees
``str(error)`` (a plain sentence) and ``error.hint`` (what to do next), never a
traceback.

Whether another attempt is worth making is decided here, once, by the class:
``retryable`` errors (a timeout, a service or node that did not answer, an
enclave that died mid-job) are retried automatically; ``final`` ones (the
enclave's verdict on the file, a file that cannot be published as it is) are
never run again as they are, since the same input gets the same answer; the
rest wait for the user to fix the cause and say 'retry'. ``error_class(code)``
finds the class of a recorded error.

    SatyaError
    ├── ConfigurationError          settings are missing or contradictory
    ├── UserInputError              the user's input cannot be used as given
    │   ├── FileProblem             path missing, unreadable, not a file
    │   ├── InvalidModelFormat      code "invalid_format"; final
    │   └── DangerousModel          code "dangerous_model" (would run code when loaded); final
    ├── StorageError                blob storage (Walrus or the local store)
    │   ├── NetworkTimeout          code "network_timeout"; retryable
    │   ├── ServiceUnavailable      code "service_unavailable"; retryable
    │   ├── InsufficientStorage     code "insufficient_storage"
    │   ├── DiskFull                code "disk_full" (this machine's disk; HTTP 507)
    │   ├── BlobTooLarge            code "blob_too_large" (HTTP 413)
    │   ├── BlobRejected            code "blob_rejected" (HTTP 400/451)
    │   ├── BlobNotFound            code "blob_not_found"
    │   └── IntegrityError          code "integrity_error" (digest mismatch)
    ├── ChainError                  the ledger (local or Sui)
    │   ├── InsufficientFunds       code "insufficient_funds"
    │   ├── ObjectNotFound          code "object_not_found"
    │   ├── PermissionDenied        code "permission_denied"
    │   ├── InvalidStatus           code "invalid_status"
    │   ├── SignatureRejected       code "signature_rejected"
    │   ├── ChainUnavailable        code "chain_unavailable"; retryable (node unreachable)
    │   ├── ChainSlow               code "chain_slow" (a transaction past its deadline)
    │   ├── NotSupported            code "not_supported"; final (no such contract entry point)
    │   └── SpendingCapExceeded     code "spending_cap"
    ├── VerificationError           the TEE side
    │   ├── VerificationFailed      code "verification_failed" (the model failed); final
    │   ├── EnclaveUnavailable      code "enclave_unavailable"; retryable
    │   └── ResultRejected          code "result_rejected" (bad signature, stale, ...)
    └── LanguageModelError          the optional LLM; always recovered by the rules

Messages never contain secrets: adapters build them from ids, sizes and status
codes only.
"""

from __future__ import annotations


class SatyaError(Exception):
    """Base class. ``code`` names the recovery branch; ``hint`` says what to do next."""

    code: str = "error"
    retryable: bool = False  # another attempt as it is may succeed: retried automatically
    final: bool = False  # the same input gets the same answer: never run again as it is
    default_hint: str = "Try again; if it keeps happening, say 'support bundle'."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint if hint is not None else self.default_hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigurationError(SatyaError):
    code = "configuration"
    default_hint = "Check your settings (.env or environment) and start again."


class UserInputError(SatyaError):
    code = "user_input"
    default_hint = "Say it another way, or type 'help'."


class FileProblem(UserInputError):
    code = "file_problem"
    default_hint = "Check the path (relative paths start from where you launched satya)."


class InvalidModelFormat(UserInputError):
    code = "invalid_format"
    final = True
    default_hint = "Convert the model to safetensors or ONNX; say 'conversion guide' for steps."


class DangerousModel(UserInputError):
    code = "dangerous_model"
    final = True
    default_hint = (
        "Export the weights to safetensors (it cannot carry code) and upload that file; "
        "say 'conversion guide' for steps."
    )


class StorageError(SatyaError):
    code = "storage_error"


class NetworkTimeout(StorageError):
    code = "network_timeout"
    retryable = True
    default_hint = "The upload resumes where it stopped; say 'resume' to continue."


class ServiceUnavailable(StorageError):
    code = "service_unavailable"
    retryable = True
    default_hint = (
        "The storage service is busy or unreachable: say 'retry' once it is back (finished"
        " chunks are kept), or point SATYA_WALRUS_PUBLISHER_URL at another publisher."
    )


class InsufficientStorage(StorageError):
    code = "insufficient_storage"
    default_hint = "Free space or top up your WAL balance, then say 'retry'."


class DiskFull(StorageError):
    """A local disk (SATYA_HOME, a download folder) has no room for what must be written."""

    code = "disk_full"
    default_hint = (
        "Free space on that disk (or set SATYA_HOME to a disk with room), then say 'retry'."
    )


class BlobTooLarge(StorageError):
    code = "blob_too_large"
    default_hint = "Lower the chunk size (SATYA_CHUNK_SIZE) below the publisher's limit."


class BlobRejected(StorageError):
    code = "blob_rejected"
    default_hint = "The publisher refused this data; check the file and the publisher settings."


class BlobNotFound(StorageError):
    code = "blob_not_found"
    default_hint = "Check the blob id; a blob that just certified can take a moment to appear."


class IntegrityError(StorageError):
    code = "integrity_error"
    default_hint = (
        "The data does not match its recorded digest; download again from another aggregator."
    )


class ChainError(SatyaError):
    code = "chain_error"


class InsufficientFunds(ChainError):
    code = "insufficient_funds"
    default_hint = (
        "Top up the wallet with SUI (on the local ledger: 'satya faucet'), then say 'retry'."
    )


class ObjectNotFound(ChainError):
    code = "object_not_found"
    default_hint = "Check the object id; say 'check status' to see your models."


class PermissionDenied(ChainError):
    code = "permission_denied"
    default_hint = "Only the owner of a model can do that."


class InvalidStatus(ChainError):
    code = "invalid_status"
    default_hint = "Say 'check status' to see where this model stands."


class SignatureRejected(ChainError):
    code = "signature_rejected"
    default_hint = "The transaction signature did not verify; check the active key."


class ChainUnavailable(ChainError):
    code = "chain_unavailable"
    retryable = True
    default_hint = "The Sui node did not answer; check SATYA_SUI_RPC_URL and your network."


class ChainSlow(ChainError):
    """A transaction that has not confirmed by its deadline (derived from its estimate).

    Neither retried by itself nor final: it was sent with its request id, so waiting
    for it, or sending it again, never executes it twice; the user chooses."""

    code = "chain_slow"
    default_hint = (
        "It was sent with a key, so nothing is sent twice: say 'wait' to give it more time, "
        "'retry' to send it again, or 'cancel' to stop here."
    )


class NotSupported(ChainError):
    code = "not_supported"
    final = True
    default_hint = (
        "The deployed Satya contract has no entry point for this; it cannot be done on this "
        "network (the embedded ledger offers it)."
    )


class SpendingCapExceeded(ChainError):
    code = "spending_cap"
    default_hint = "Raise SATYA_SPENDING_CAP_MIST or switch to supervised mode to approve it."


class VerificationError(SatyaError):
    code = "verification_error"


class VerificationFailed(VerificationError):
    code = "verification_failed"
    final = True
    default_hint = (
        "Fix what the enclave found (code hidden in a pickle: export the weights to"
        " safetensors, which cannot carry code) and upload the fixed file."
    )


class EnclaveUnavailable(VerificationError):
    code = "enclave_unavailable"
    retryable = True
    default_hint = (
        "The enclave is unreachable: say 'retry' once it is back, or check SATYA_NAUTILUS_URL"
        " (satya enclave serve runs one locally)."
    )


class ResultRejected(VerificationError):
    code = "result_rejected"
    default_hint = "The verification result could not be trusted; say 'retry' to verify again."


class LanguageModelError(SatyaError):
    code = "language_model"
    retryable = True
    default_hint = "The rule-based interpreter is used instead."


def error_classes() -> list[type[SatyaError]]:
    """Every class of the tree, ``SatyaError`` first."""
    found: list[type[SatyaError]] = [SatyaError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return found


def error_class(code: str) -> type[SatyaError]:
    """The most general class whose ``code`` this is (``SatyaError`` for a code of no class)."""
    for cls in error_classes():
        if cls.code == code:
            return cls
    return SatyaError


__all__ = [
    "BlobNotFound",
    "BlobRejected",
    "BlobTooLarge",
    "ChainError",
    "ChainUnavailable",
    "ConfigurationError",
    "EnclaveUnavailable",
    "FileProblem",
    "InsufficientFunds",
    "InsufficientStorage",
    "IntegrityError",
    "InvalidModelFormat",
    "InvalidStatus",
    "LanguageModelError",
    "NetworkTimeout",
    "NotSupported",
    "ObjectNotFound",
    "PermissionDenied",
    "ResultRejected",
    "SatyaError",
    "ServiceUnavailable",
    "SignatureRejected",
    "SpendingCapExceeded",
    "StorageError",
    "UserInputError",
    "VerificationError",
    "VerificationFailed",
    "error_class",
    "error_classes",
]
