//! No wait for the server without a bound.
//!
//! The `postgres` client has a connect timeout for the TCP handshake and nothing else: a server
//! that accepts and then says nothing (a hung process, a client connected to itself on an
//! ephemeral port), or a network that drops every packet without a reset, leaves a read
//! pending for ever. Keepalives and `tcp_user_timeout` end the second case at the TCP level;
//! neither ends the first, where the peer acknowledges everything and answers nothing.
//!
//! So every connection's socket is wrapped in a [`Guarded`] stream, handed to the driver
//! through its TLS hook (`sslnegotiation=direct` with a connector that adds no encryption:
//! the bytes on the wire are the plain protocol's). While an operation runs ([`Watch::run`]),
//! the stream fails a read or write that has seen no byte move for the watch's `io_timeout`,
//! with `TimedOut`; the driver then reports the connection closed, and the store answers
//! `StoreError::Unavailable`. Between operations the watch is idle and nothing times out.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::Socket;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// One connection's watch: whether an operation is running, and when a byte last moved.
#[derive(Debug)]
pub(crate) struct Watch {
    io_timeout: Duration,
    active: AtomicBool,
    progress: Mutex<Instant>,
}

impl Watch {
    pub(crate) fn new(io_timeout: Duration) -> Arc<Watch> {
        Arc::new(Watch { io_timeout, active: AtomicBool::new(false), progress: Mutex::new(Instant::now()) })
    }

    /// Arms the watch for an operation (a byte must move every `io_timeout`).
    pub(crate) fn arm(&self) {
        self.moved();
        self.active.store(true, Ordering::Release);
    }

    /// Disarms it: the connection idles.
    pub(crate) fn disarm(&self) {
        self.active.store(false, Ordering::Release);
    }

    /// Runs `f` with the watch armed.
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        self.arm();
        let out = f();
        self.disarm();
        out
    }

    fn moved(&self) {
        if let Ok(mut p) = self.progress.lock() {
            *p = Instant::now();
        }
    }

    /// When the current wait fails, if the watch is armed.
    fn deadline(&self) -> Option<Instant> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        self.progress.lock().ok().map(|p| *p + self.io_timeout)
    }
}

/// The connector handed to the driver in place of TLS: it wraps the socket in a [`Guarded`]
/// stream under `watch`.
#[derive(Clone)]
pub(crate) struct Guard(pub(crate) Arc<Watch>);

impl MakeTlsConnect<Socket> for Guard {
    type Stream = Guarded;
    type TlsConnect = Guard;
    type Error = io::Error;

    fn make_tls_connect(&mut self, _domain: &str) -> Result<Guard, io::Error> {
        Ok(self.clone())
    }
}

impl TlsConnect<Socket> for Guard {
    type Stream = Guarded;
    type Error = io::Error;
    type Future = std::future::Ready<Result<Guarded, io::Error>>;

    fn connect(self, stream: Socket) -> Self::Future {
        std::future::ready(Ok(Guarded { inner: stream, watch: self.0, timer: None }))
    }
}

/// A socket whose waits end at the watch's deadline.
pub(crate) struct Guarded {
    inner: Socket,
    watch: Arc<Watch>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Guarded {
    /// After the inner stream answered `Pending`: `Pending` until the deadline, then an error.
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(deadline) = self.watch.deadline() else { return Poll::Pending };
        let deadline = tokio::time::Instant::from_std(deadline);
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no byte from or to the server for {:?}", self.watch.io_timeout),
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.watch.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.wait(cx).map(Err),
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.watch.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.wait(cx).map(Err),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.wait(cx).map(Err),
            ready => ready,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.wait(cx).map(Err),
            ready => ready,
        }
    }
}

impl TlsStream for Guarded {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}
