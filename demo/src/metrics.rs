//! The host's metrics at `GET /metrics`, whole-host counts whichever worker the scrape lands on.
//!
//! Each worker process counts in its own memory (the library's counters through the `metrics`
//! facade, rendered by the Prometheus exporter) and writes its rendering, in the Prometheus
//! text format, to a file of its own in the data folder's `metrics/` folder — node_exporter's
//! textfile-collector convention: a folder of `*.prom` files, one per writer. A scrape (on any
//! worker) writes its own worker's file afresh, reads every file and answers the sum of each
//! series over them. A worker that died leaves its file, so its counts stay in the host's
//! totals (counters never go down while the host runs); the supervisor empties the folder when
//! the host starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tessera_protocol::file::{self, Durability};

/// The metrics folder in the data folder.
pub(crate) const METRICS_DIR: &str = "metrics";

/// Where the host answers a scrape.
pub(crate) const METRICS_PATH: &str = "/metrics";

/// How often a worker writes its counts when they changed (a scrape also writes its own
/// worker's first, so its answer is never behind for that worker).
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// The media type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One worker's counts and the file it writes them to.
#[derive(Clone)]
pub(crate) struct WorkerMetrics {
    handle: PrometheusHandle,
    dir: Arc<Path>,
    file: Arc<Path>,
}

impl WorkerMetrics {
    /// Installs the Prometheus recorder as this process's recorder (once per worker process)
    /// and prepares the worker's file in `data_dir`'s metrics folder.
    pub(crate) fn install(data_dir: &Path, worker: &str) -> Result<WorkerMetrics, String> {
        let dir = data_dir.join(METRICS_DIR);
        create_private_dir(&dir)?;
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder)
            .map_err(|_| "a metrics recorder is already installed".to_owned())?;
        let name = format!("{}.prom", worker.replace('/', "-"));
        let file = dir.join(name);
        Ok(WorkerMetrics {
            handle,
            dir: dir.into(),
            file: file.into(),
        })
    }

    /// Writes this worker's counts as they are now, whole ([`file::replace_whole`]: a reader
    /// sees the old file or the new one, and a scrape's write and the periodic one, each under
    /// a temporary name of its own, never mix). Not synced: the counts are those of this run.
    fn flush(&self, text: &str) -> std::io::Result<()> {
        file::replace_whole(&self.file, text.as_bytes(), Durability::None)
            .map_err(|e| std::io::Error::new(e.kind(), e))
    }

    /// Writes the counts whenever they changed, every [`FLUSH_EVERY`], until the worker stops.
    pub(crate) async fn keep_written(self) {
        let mut last = String::new();
        let mut ticks = tokio::time::interval(FLUSH_EVERY);
        loop {
            ticks.tick().await;
            let text = self.handle.render();
            if text != last {
                if let Err(e) = self.flush(&text) {
                    tracing::warn!("cannot write this worker's metrics: {}", e.kind());
                    continue;
                }
                last = text;
            }
        }
    }
}

/// Creates `dir` (mode 0700) if it is missing.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create the metrics folder {}: {e}", dir.display()))
}

/// Empties the metrics folder of `data_dir` (the supervisor, before any worker starts: the
/// counts are those of this run of the host).
pub(crate) fn clear(data_dir: &Path) -> Result<(), String> {
    let dir = data_dir.join(METRICS_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "prom") || file::is_temporary(&entry.file_name()) {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `GET /metrics`: every worker's counts, summed, in the Prometheus text format.
pub(crate) async fn scrape(State(metrics): State<Option<WorkerMetrics>>) -> Response {
    let Some(metrics) = metrics else {
        return (StatusCode::NOT_FOUND, "this host keeps no metrics\n").into_response();
    };
    let read = tokio::task::spawn_blocking(move || {
        // This worker's counts as they are now, then everybody's.
        let own = metrics.handle.render();
        metrics.flush(&own)?;
        read_all(&metrics.dir)
    })
    .await;
    match read {
        Ok(Ok(texts)) => {
            let body = render(&merge(texts.iter().map(String::as_str)));
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
            response
        }
        Ok(Err(e)) => {
            tracing::error!("cannot read the metrics folder: {}", e.kind());
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The text of every `*.prom` file in `dir`.
fn read_all(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path: PathBuf = entry?.path();
        if path.extension().is_some_and(|e| e == "prom") {
            match std::fs::read_to_string(&path) {
                Ok(text) => texts.push(text),
                // Replaced between the listing and the read: its new file is read instead.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(texts)
}

/// A series: the metric name and its labels, in name order.
type Series = (String, Vec<(String, String)>);

/// The sum of each series over `texts` (Prometheus text format; comments skipped, as are
/// lines that do not parse).
fn merge<'a>(texts: impl Iterator<Item = &'a str>) -> BTreeMap<Series, f64> {
    let mut sums = BTreeMap::new();
    for text in texts {
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((series, value)) = parse_sample(line) {
                *sums.entry(series).or_insert(0.0) += value;
            }
        }
    }
    sums
}

/// `name{a="x",b="y"} value` (labels optional) as its series and value.
fn parse_sample(line: &str) -> Option<(Series, f64)> {
    let (series, value) = line.trim().rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, mut labels) = match series.split_once('{') {
        None => (series.to_owned(), Vec::new()),
        Some((name, rest)) => (name.to_owned(), parse_labels(rest.strip_suffix('}')?)?),
    };
    labels.sort();
    Some(((name, labels), value))
}

/// `a="x",b="y"` (values with `\"`, `\\` and `\n` escapes) as pairs.
fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (at, c) = chars.next()?;
            match c {
                '"' => break at,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        labels.push((name.trim().to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

/// The Prometheus text format of `sums`, one `# TYPE` line per metric (counters for names
/// ending in `_total`).
fn render(sums: &BTreeMap<Series, f64>) -> String {
    let mut out = String::new();
    let mut current = "";
    for ((name, labels), value) in sums {
        if name != current {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "untyped"
            };
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            current = name;
        }
        out.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n");
                    format!("{k}=\"{v}\"")
                })
                .collect();
            out.push('{');
            out.push_str(&pairs.join(","));
            out.push('}');
        }
        out.push_str(&format!(" {value}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{PrometheusBuilder, WorkerMetrics, merge, render};

    /// A scrape's write and the periodic one may run at once in a worker (four writers here):
    /// every write succeeds, every file a reader sees is one whole rendering, never a mix, and
    /// no temporary file stays behind. (With one fixed temporary name, a writer's rename found
    /// its temporary file already renamed by another.)
    #[test]
    fn concurrent_flushes_leave_one_whole_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = WorkerMetrics {
            handle: PrometheusBuilder::new().build_recorder().handle(),
            dir: dir.path().into(),
            file: dir.path().join("w1.prom").into(),
        };
        let texts: Vec<String> = (0..4)
            .map(|i| format!("s{i} 1\n").repeat(20_000 + i))
            .collect();
        std::thread::scope(|s| {
            for text in &texts {
                let metrics = metrics.clone();
                s.spawn(move || {
                    for _ in 0..200 {
                        metrics.flush(text).unwrap();
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..400 {
                    if let Ok(seen) = std::fs::read_to_string(&*metrics.file) {
                        assert!(texts.contains(&seen), "a mix of {} bytes", seen.len());
                    }
                }
            });
        });
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["w1.prom"]);
    }

    #[test]
    fn the_same_series_from_several_workers_is_summed_whatever_its_label_order() {
        let one = "# TYPE t_total counter\nt_total{code=\"expired\",action=\"a\"} 2\nu_total 1\n";
        let two =
            "t_total{action=\"a\",code=\"expired\"} 3\nt_total{action=\"b\",code=\"x\\\"y\"} 1\n";
        let text = render(&merge([one, two].into_iter()));
        assert_eq!(
            text,
            "# TYPE t_total counter\n\
             t_total{action=\"a\",code=\"expired\"} 5\n\
             t_total{action=\"b\",code=\"x\\\"y\"} 1\n\
             # TYPE u_total counter\n\
             u_total 1\n"
        );
    }
}
