//! Logging and tracing: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), coloured
//! only on a terminal, one JSON object a line with `POSTMORTEM_LOG_FORMAT=json` (read before the
//! configuration, like `RUST_LOG`); spans exported over OTLP (HTTP, JSON) when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the OpenTelemetry convention (`OTEL_SERVICE_NAME` names
//! the service, default `postmortem`).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Flushes exported spans when dropped (at the end of `main`).
#[must_use = "spans are flushed when the guard is dropped"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("warning: flushing spans over OTLP failed: {e}");
        }
    }
}

/// `default` applies when `RUST_LOG` is unset.
pub fn init(default: &str) -> TelemetryGuard {
    // The OTLP exporter builds an HTTPS-capable client: the TLS provider comes first.
    crate::app::startup::install_crypto_provider();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json =
        std::env::var("POSTMORTEM_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let fmt = if json {
        fmt.json().flatten_event(true).boxed()
    } else {
        fmt.boxed()
    };
    let provider = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .and_then(|endpoint| match otlp_provider(&endpoint) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("warning: OTLP export disabled: {e}");
                None
            }
        });
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("postmortem"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    let _ = tracing_subscriber::registry()
        .with(otel)
        .with(fmt.with_filter(filter))
        .try_init();
    TelemetryGuard { provider }
}

use tracing_subscriber::Layer as _;

fn otlp_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    // The base endpoint gets the signal path, as the OpenTelemetry specification says.
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(traces)
        .with_timeout(std::time::Duration::from_secs(10))
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "postmortem".into());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build(),
        )
        .build())
}
