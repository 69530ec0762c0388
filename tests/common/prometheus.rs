//! A real Prometheus (Debian's `prometheus` package) on a free loopback port, over data backfilled
//! from an OpenMetrics fixture with `promtool tsdb create-blocks-from openmetrics`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestPrometheus {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for TestPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(name: &str) -> Option<PathBuf> {
    let var = format!("{}_BIN", name.to_uppercase());
    if let Ok(p) = std::env::var(&var) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Starts Prometheus over `fixture` (a path under `fixtures/`); `None`, with a message, only when
/// the binaries are missing (CI installs them).
pub async fn start(fixture: &str) -> Option<TestPrometheus> {
    let (Some(prometheus), Some(promtool)) = (find("prometheus"), find("promtool")) else {
        super::skipped("prometheus/promtool not found (apt-get install prometheus)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fixture = format!("{}/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", &fixture])
        .arg(&data)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        // The fixture's blocks are old: a long retention keeps them from being deleted at start.
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let url = format!("http://127.0.0.1:{port}");
    let p = TestPrometheus {
        url,
        child,
        _dir: dir,
    };
    postmortem::app::startup::install_crypto_provider();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/-/ready", p.url)).send().await
            && r.status().is_success()
        {
            return Some(p);
        }
        assert!(Instant::now() < deadline, "prometheus never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
