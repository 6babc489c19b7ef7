"""``ModelRejected``: a ``VerificationFailed`` that carries its findings."""

from __future__ import annotations

from integrations.errors import VerificationFailed


class ModelRejected(VerificationFailed):
    """The enclave refused the model; ``findings`` says why, one sentence each.

    Example::

        try:
            await enclave.process(request)
        except ModelRejected as exc:
            print(exc.findings)
    """

    def __init__(self, findings: tuple[str, ...], *, hint: str | None = None) -> None:
        super().__init__("The model failed verification: " + " ".join(findings), hint=hint)
        self.findings = findings
