//! Single-use routes (spec §10.1): the first use of a token is recorded in the replay guard,
//! and released again when the handler refuses the click.

use std::sync::{Arc, Mutex};

use tessera_protocol::Claims;

use crate::rejection::Rejection;
use crate::replay::{ReplayGuard, Use};
use crate::route::ActionRoute;
use crate::state::TesseraState;

/// How long a single-use route keeps the record of a use past the last second its token can
/// verify (`exp` + leeway): a use verified in that second and recorded in the next (a loaded
/// worker, a round trip to the store) is still seen, and hosts whose clocks differ by less
/// than this agree on it. Spec §10.1 point 3.
///
/// ```
/// assert_eq!(tessera_server::REPLAY_RECORD_MARGIN.as_secs(), 60);
/// ```
pub const REPLAY_RECORD_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// A use recorded by the extractor of a single-use route, for [`Bound`] to release if the
/// handler refuses the click.
#[derive(Clone, Default)]
pub(crate) struct UseRecord(Arc<Mutex<Option<Recorded>>>);

/// What to release: the guard, and the record's scope and token id.
struct Recorded {
    guard: Arc<dyn ReplayGuard>,
    scope: String,
    jti: String,
}

impl UseRecord {
    fn set(&self, recorded: Recorded) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(recorded);
        }
    }

    /// Releases the recorded use, if any. A failure is logged (without the token id) and
    /// leaves the token used up: the safe side.
    pub(crate) async fn release(&self) {
        let recorded = self.0.lock().ok().and_then(|mut slot| slot.take());
        let Some(Recorded { guard, scope, jti }) = recorded else {
            return;
        };
        match guard.release(&scope, &jti).await {
            Ok(()) => tracing::debug!(
                scope = %scope,
                "single-use click refused by the handler; token not used up"
            ),
            Err(e) => tracing::warn!(
                scope = %scope,
                reason = %e.reason,
                "could not release a refused single-use click; the token stays used up"
            ),
        }
    }
}

/// Single-use routes: records the token's `jti` in the replay guard, refusing a second use.
/// A first use is noted in `record` (when the route was mounted through [`Bound`]), so that a
/// refusal by the handler can release it.
pub(crate) async fn first_use(
    tessera: &TesseraState,
    route: &ActionRoute,
    claims: &Claims<()>,
    record: Option<UseRecord>,
) -> Result<(), Rejection> {
    let guard = tessera.replay_guard().ok_or_else(|| {
        route.reject(Rejection::replay_unavailable(
            "this action is single-use but the server has no replay guard",
        ))
    })?;
    // Scope the record by issuer and action: a jti is unique per token anyway.
    let scope = format!("{}|{}", claims.iss, claims.aud);
    // Kept past the last second the token verifies (`exp` + leeway) by a margin: a use
    // verified in that second whose record is written in the next must still be seen.
    let until = claims
        .exp
        .saturating_add(tessera.leeway().as_secs())
        .saturating_add(REPLAY_RECORD_MARGIN.as_secs());
    let now = tessera.clock().now();
    match guard.first_use_at(&scope, &claims.jti, until, now).await {
        Ok(Use::First) => {
            if let Some(record) = record {
                record.set(Recorded {
                    guard: guard.clone(),
                    scope,
                    jti: claims.jti.clone(),
                });
            }
            Ok(())
        }
        Ok(Use::Replayed) => Err(route.reject(Rejection::replayed())),
        Err(e) => Err(route.reject(Rejection::replay_unavailable(e.reason))),
    }
}
