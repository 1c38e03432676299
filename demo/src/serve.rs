//! A worker's accept loop: the app on hyper's HTTP/1 connections, with a header-read timeout
//! (which `axum::serve` does not offer), a deadline on each request's body, and a graceful
//! stop.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::sync::Arc;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceBuilder;

/// Serves `app` on `listener` until `stop` resolves, then stops accepting and lets the open
/// connections finish: a request in progress is answered, an idle keep-alive connection is
/// closed at once, and a connection that has not sent its first request yet (accepted just
/// before the stop, its request perhaps on the way) gets until its header timeout to send it,
/// and is answered. Connections still in the listener's queue are accepted first, so that
/// closing the listener resets none of them.
///
/// A client gets `header_timeout` to send each request's head, and as long again, from the
/// head's arrival, for its body; a slower one (a stalled or malicious client holding the
/// connection) is disconnected (a stalled body gets `400 malformed` first).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let (stopping, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    let serve = |stream: TcpStream, connections: &mut JoinSet<()>| {
        let first_request = Arc::new(Notify::new());
        let seen = first_request.clone();
        let service = ServiceBuilder::new()
            .map_request(move |request: hyper::Request<Incoming>| {
                // Stores a permit: a stop that comes later sees the connection is in use.
                seen.notify_one();
                request.map(|body| DeadlineBody::new(body, header_timeout))
            })
            .service(app.clone());
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        connections.spawn(run_connection(
            connection,
            first_request,
            stopped.clone(),
            header_timeout,
        ));
    };
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        serve(stream, &mut connections);
        // Finished connections are reaped as new ones come.
        while connections.try_join_next().is_some() {}
    }
    // Whatever the kernel has queued for this listener is taken before it closes.
    while let Ok(Ok((stream, _))) = tokio::time::timeout(Duration::ZERO, listener.accept()).await {
        serve(stream, &mut connections);
    }
    drop(listener);
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
}

/// Drives one connection; once the worker stops, lets it finish gracefully (see [`serve`]).
async fn run_connection<C>(
    connection: C,
    first_request: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    header_timeout: Duration,
) where
    C: Future<Output = Result<(), hyper::Error>> + GracefulConnection,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return closed(result),
        _ = stopped.wait_for(|stop| *stop) => {}
    }
    // Not a request yet: the client may have sent it already. Serve until it arrives (then
    // answer it) or the header timeout closes the connection.
    tokio::select! {
        result = connection.as_mut() => return closed(result),
        _ = tokio::time::timeout(header_timeout, first_request.notified()) => {}
    }
    connection.as_mut().graceful_stop();
    closed(connection.await);
}

fn closed(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!("connection closed: {e}");
    }
}

/// A connection that can be told to finish its request in progress and close.
trait GracefulConnection {
    fn graceful_stop(self: Pin<&mut Self>);
}

impl<I, S> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S::ResBody: Body + 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_stop(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// After a failed accept: a connection that went away before it was accepted is nothing; any
/// other error (out of file descriptors, say) is logged and the loop pauses a second, so that
/// it does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!("accept failed: {e}; pausing one second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A request body that must arrive whole within a deadline counted from the request's head.
/// The timer is armed only when the body is not all there yet (a small body usually comes with
/// its head), so a request that waits for nothing costs no timer.
struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, within: Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Instant::now() + within,
            timer: None,
        }
    }
}

/// The error of a body that missed its deadline.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
