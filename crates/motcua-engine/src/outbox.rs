//! Delivering status changes to the national portal, at least once: a worker
//! takes due outbox messages, sends them through a [`PortalClient`], marks them delivered or
//! schedules a retry with exponential backoff. The portal deduplicates by message id.

use std::collections::BTreeMap;

use motcua_calendar::Timestamp;

use crate::store::{OutboxUpdate, Store, StoreError, SyncMessage};

/// A failed delivery.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("portal: {0}")]
pub struct PortalError(pub String);

/// The national portal as the worker sees it.
pub trait PortalClient {
    /// Sends one message; `Ok` means the portal acknowledged it.
    fn send(&mut self, message: &SyncMessage, now: Timestamp) -> Result<(), PortalError>;
}

/// First retry delay, in minutes; doubles per attempt up to [`MAX_BACKOFF_MINUTES`].
pub const FIRST_BACKOFF_MINUTES: i64 = 1;
/// Longest retry delay, in minutes.
pub const MAX_BACKOFF_MINUTES: i64 = 60;

/// The delay before attempt `attempts + 1`.
pub fn backoff_minutes(attempts: u32) -> i64 {
    (FIRST_BACKOFF_MINUTES << attempts.min(16)).min(MAX_BACKOFF_MINUTES)
}

/// What one delivery round did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct DeliveryReport {
    /// Messages acknowledged.
    pub delivered: usize,
    /// Messages that failed and were rescheduled.
    pub failed: usize,
}

/// Sends up to `limit` due messages at `now`.
pub fn deliver<S: Store + ?Sized, P: PortalClient + ?Sized>(
    store: &S,
    portal: &mut P,
    now: Timestamp,
    limit: usize,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    let mut updates = Vec::new();
    for entry in store.outbox_due(now, limit)? {
        match portal.send(&entry.message, now) {
            Ok(()) => {
                report.delivered += 1;
                updates.push(OutboxUpdate::Delivered { id: entry.message.id(), at: now });
            }
            Err(_) => {
                report.failed += 1;
                let attempts = entry.attempts + 1;
                updates.push(OutboxUpdate::Retry {
                    id: entry.message.id(),
                    attempts,
                    next_attempt: now.plus_minutes(backoff_minutes(attempts)),
                });
            }
        }
    }
    store.outbox_update(&updates)?;
    Ok(report)
}

/// An in-process national portal for tests: it can be down for a while, fail every n-th call,
/// lose acknowledgements (it keeps the message but the sender sees a failure, so the message
/// comes again), and keeps a deduplicated view by message id.
#[derive(Clone, Debug, Default)]
pub struct FakePortal {
    /// Refuses every call before this instant.
    pub down_until: Option<Timestamp>,
    /// Fails every n-th call.
    pub fail_every: Option<u32>,
    /// Keeps the message but reports failure on every n-th call.
    pub lose_ack_every: Option<u32>,
    /// Calls so far (the counter `fail_every` and `lose_ack_every` count with).
    pub calls: u32,
    /// Calls that reached the portal's store, duplicates included.
    pub deliveries: u64,
    /// Messages by id: the portal's deduplicated view.
    pub received: BTreeMap<String, SyncMessage>,
}

impl PortalClient for FakePortal {
    fn send(&mut self, message: &SyncMessage, now: Timestamp) -> Result<(), PortalError> {
        self.calls += 1;
        if self.down_until.is_some_and(|t| now < t) {
            return Err(PortalError("unavailable".into()));
        }
        if self.fail_every.is_some_and(|n| n > 0 && self.calls % n == 0) {
            return Err(PortalError("internal error".into()));
        }
        self.deliveries += 1;
        self.received.entry(message.id()).or_insert_with(|| message.clone());
        if self.lose_ack_every.is_some_and(|n| n > 0 && self.calls % n == 0) {
            return Err(PortalError("timeout (acknowledgement lost)".into()));
        }
        Ok(())
    }
}
