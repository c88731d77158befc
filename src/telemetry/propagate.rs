//! W3C trace context on the agent's Kubernetes API requests: a tower layer
//! under kube's `Client` that writes `traceparent` (and `tracestate`) from
//! the span current when the request is made, so an API server with tracing
//! on joins its spans to the sync that caused them.

use std::task::{Context, Poll};

use opentelemetry::propagation::{Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower_layer::Layer;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Adds trace context headers to every request of the wrapped service.
#[derive(Clone, Debug, Default)]
pub struct TraceContextLayer;

impl<S> Layer<S> for TraceContextLayer {
    type Service = TraceContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceContextService { inner }
    }
}

/// See [`TraceContextLayer`].
#[derive(Clone, Debug)]
pub struct TraceContextService<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for TraceContextService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // Read synchronously: kube's buffer worker calls us inside the span
        // that was current where the request was made.
        inject(&tracing::Span::current(), request.headers_mut());
        self.inner.call(request)
    }
}

/// Writes the trace context of `span` into `headers`; nothing when the span
/// has no exported trace (traces off, or not sampled and not recorded).
pub fn inject(span: &tracing::Span, headers: &mut http::HeaderMap) {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return;
    }
    TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    /// A service that answers with the headers it was sent.
    #[derive(Clone)]
    struct Echo;

    impl Service<http::Request<()>> for Echo {
        type Response = http::HeaderMap;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<http::HeaderMap, Self::Error>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, request: http::Request<()>) -> Self::Future {
            std::future::ready(Ok(request.headers().clone()))
        }
    }

    fn send(service: &mut TraceContextService<Echo>) -> http::HeaderMap {
        let future = service.call(http::Request::new(()));
        futures::executor::block_on(future).unwrap_or_default()
    }

    #[test]
    fn requests_carry_the_current_span_as_traceparent() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let mut service = TraceContextLayer.layer(Echo);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("sync");
            let trace_id = span.context().span().span_context().trace_id();
            let headers = span.in_scope(|| send(&mut service));
            let parent = headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let span_id = span.context().span().span_context().span_id();
            assert_eq!(parent, format!("00-{trace_id}-{span_id}-01"));

            // Outside any span there is no context to send.
            assert!(send(&mut service).get("traceparent").is_none());
        });
    }

    #[test]
    fn without_traces_nothing_is_added() {
        let mut service = TraceContextLayer.layer(Echo);
        let headers = tracing::info_span!("sync").in_scope(|| send(&mut service));
        assert!(headers.is_empty(), "{headers:?}");
    }
}
