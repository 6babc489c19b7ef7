"""OpenTelemetry export: a tracer provider that sends spans over OTLP/HTTP.

Made only when ``SATYA_OTEL_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) is set; the
SDK and exporter are then needed (``pip install 'satya-agent[otel]'``). Without it no
provider exists and tracing costs nothing.

Example::

    provider = otlp_provider("http://127.0.0.1:4318")
    async with Assistant.open(settings, tracer_provider=provider) as assistant: ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def otlp_provider(endpoint: str) -> TracerProvider:
    """Spans of the service ``satya-agent``, batched to ``endpoint`` (``/v1/traces`` added)."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigurationError(
            "Exporting traces (SATYA_OTEL_ENDPOINT) needs the OpenTelemetry SDK and its OTLP "
            "exporter.",
            hint="pip install 'satya-agent[otel]', or unset SATYA_OTEL_ENDPOINT.",
        ) from None
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    provider = TracerProvider(resource=Resource.create({"service.name": "satya-agent"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return provider
