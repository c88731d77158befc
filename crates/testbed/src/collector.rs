//! A real OpenTelemetry Collector (`otelcol` from the testbed) per test: OTLP in
//! over gRPC and HTTP, OTLP JSON lines out to a file the test reads back.

use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bin;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running collector; killed when dropped (also when a test panics).
pub struct Collector {
    child: Child,
    dir: PathBuf,
    grpc: SocketAddr,
    http: SocketAddr,
}

impl fmt::Debug for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collector")
            .field("grpc", &self.grpc)
            .field("http", &self.http)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
}

impl Collector {
    /// Starts a collector on free loopback ports and waits until both receivers
    /// accept connections.
    pub fn start() -> Collector {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("skiff-otelcol-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create collector folder");
        let (grpc, http) = (free_port(), free_port());
        let traces = dir.join("traces.jsonl");
        // The collector's own metrics are off: their fixed port would clash
        // between collectors of parallel tests.
        let config = format!(
            r#"receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "{grpc}"}}
      http: {{endpoint: "{http}"}}
exporters:
  file:
    path: "{traces}"
    flush_interval: 50ms
  debug: {{verbosity: basic}}
service:
  telemetry:
    metrics: {{level: none}}
    logs: {{level: warn}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file, debug]}}
"#,
            traces = traces.display()
        );
        let config_path = dir.join("config.yaml");
        std::fs::write(&config_path, config).expect("write collector config");
        let log = std::fs::File::create(dir.join("otelcol.log")).expect("create collector log");
        let child = Command::new(bin("otelcol"))
            .arg(format!("--config={}", config_path.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("start otelcol");
        crate::kill_when_this_process_exits(child.id());
        let mut collector = Collector {
            child,
            dir,
            grpc,
            http,
        };
        collector.wait_until_listening(Duration::from_secs(30));
        collector
    }

    fn wait_until_listening(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "otelcol exited ({status}) at start; see {}",
                    self.dir.join("otelcol.log").display()
                );
            }
            let up = |addr| TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok();
            if up(self.grpc) && up(self.http) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "otelcol not listening after {limit:?}; see {}",
                self.dir.join("otelcol.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` of the OTLP/gRPC receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// `http://127.0.0.1:PORT` of the OTLP/HTTP receiver (paths `/v1/traces`, ...).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The file the collector writes received traces to, one OTLP JSON
    /// `ExportTraceServiceRequest` per line.
    pub fn traces_file(&self) -> PathBuf {
        self.dir.join("traces.jsonl")
    }

    /// The folder holding the config, the log and the received data.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every span received so far, each with the attributes of its resource
    /// merged in under `"resource"`, in the order they were written.
    pub fn spans(&self) -> Vec<serde_json::Value> {
        let Ok(text) = std::fs::read_to_string(self.traces_file()) else {
            return Vec::new();
        };
        let mut spans = Vec::new();
        // The last line may still be being written; only whole lines count.
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(batch) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for rs in batch["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for span in ss["spans"].as_array().into_iter().flatten() {
                        let mut span = span.clone();
                        span["resource"] = rs["resource"].clone();
                        spans.push(span);
                    }
                }
            }
        }
        spans
    }

    /// Polls [`Collector::spans`] until `pred` holds for the list or `limit` passes.
    pub fn wait_for_spans(
        &self,
        limit: Duration,
        pred: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if pred(&spans) || Instant::now() >= deadline {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
