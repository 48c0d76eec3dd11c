//! The change feed ("smart polling"): what changed in the couple after a cursor.

use accueil_domain::couples::Change;
use chrono::{DateTime, Duration, Utc};

use super::CouplesService;
use crate::identity::Caller;
use crate::scope::InCoupleError;

/// Most changes per answer; a client with more to fetch calls again with the next cursor.
const PAGE: u32 = 500;

/// Where to start.
#[derive(Debug, Clone, Copy)]
pub enum SyncRequest {
    /// After this feed number (what the last answer's `next_cursor` said).
    After(i64),
    /// After this instant (the seed apps' `since`); may miss writes sharing a timestamp.
    Since(DateTime<Utc>),
    /// Nothing given: the last 24 hours, as the seed did.
    Default,
}

/// One page of the feed.
#[derive(Debug, Clone)]
pub struct SyncPage {
    /// Changes, oldest first.
    pub changes: Vec<Change>,
    /// The cursor to send next time.
    pub next_cursor: i64,
    /// Whether more changes are waiting already.
    pub has_more: bool,
}

impl CouplesService {
    /// The couple's changes after the request's position.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn changes(
        &self,
        caller: &Caller,
        request: SyncRequest,
    ) -> Result<SyncPage, InCoupleError> {
        self.ports
            .read_in_couple(caller, move |cx| -> Result<SyncPage, InCoupleError> {
                let (couple, now, tx) = (&cx.couple, cx.now, &mut *cx.tx);
                let (mut changes, start) = match request {
                    SyncRequest::After(seq) => {
                        (tx.feed().changes_after(couple.id, seq, PAGE + 1)?, seq)
                    }
                    SyncRequest::Since(t) => (tx.feed().changes_since(couple.id, t, PAGE + 1)?, 0),
                    SyncRequest::Default => (
                        tx.feed()
                            .changes_since(couple.id, now - Duration::hours(24), PAGE + 1)?,
                        0,
                    ),
                };
                let has_more = changes.len() > PAGE as usize;
                changes.truncate(PAGE as usize);
                let next_cursor = changes.last().map_or(start, |c| c.seq);
                Ok(SyncPage {
                    changes,
                    next_cursor,
                    has_more,
                })
            })
            .await
    }
}
