//! Limit counters in Redis, shared by every gateway process using it.
//!
//! Keys per subject (`k{id}` for an API key, `u{id}` for a user):
//! `{prefix}limits:{subject}:m{minute}` (hash: `r` requests, `t` tokens),
//! `…:d{day}` and `…:M{month}` (spend in nano-USD). Each expires a little after
//! its window ends. A check is one script call that tests every window of the
//! key and the user and counts the call only when all allow it. A budget
//! counter that does not exist yet (new window, Redis restarted) is first
//! initialised from the request log with `SET NX`, so concurrent initialisers
//! agree; charges only ever increment counters that exist, so they cannot
//! create a counter that hides the logged spend.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;
use spgw_store::Db;

use crate::RouteError;
use crate::limits::{LimitKind, LimitRefusal, Subject, Subjects, Windows, logged_spend};

/// Longest a check may wait for Redis before the call goes through unchecked.
const TIMEOUT: Duration = Duration::from_millis(500);
/// Counters outlive their window by this much, so a late charge still finds them.
const MINUTE_SLACK_MS: i64 = 5_000;
const DAY_SLACK_MS: i64 = 3_600_000;
const MONTH_SLACK_MS: i64 = 86_400_000;

/// KEYS: three per subject (minute hash, day counter, month counter).
/// ARGV[1] minute TTL ms; then four per subject: rpm, tpm, day and month budget
/// (nano-USD), -1 meaning no limit.
/// Returns {0} (counted), {1, subject, limit 1-4, used} (refused) or
/// {2, subject} (a budget counter must be initialised first).
pub(crate) const CHECK_LUA: &str = r"
local n = #KEYS / 3
for i = 1, n do
  local mk, dk, ok = KEYS[i*3-2], KEYS[i*3-1], KEYS[i*3]
  local rpm, tpm = tonumber(ARGV[i*4-2]), tonumber(ARGV[i*4-1])
  local day, month = tonumber(ARGV[i*4]), tonumber(ARGV[i*4+1])
  if day >= 0 or month >= 0 then
    if redis.call('EXISTS', dk) == 0 or redis.call('EXISTS', ok) == 0 then return {2, i} end
  end
  if rpm >= 0 then
    local r = tonumber(redis.call('HGET', mk, 'r') or 0)
    if r + 1 > rpm then return {1, i, 1, r} end
  end
  if tpm >= 0 then
    local t = tonumber(redis.call('HGET', mk, 't') or 0)
    if t >= tpm then return {1, i, 2, t} end
  end
  if day >= 0 then
    local d = tonumber(redis.call('GET', dk))
    if d >= day then return {1, i, 3, d} end
  end
  if month >= 0 then
    local m = tonumber(redis.call('GET', ok))
    if m >= month then return {1, i, 4, m} end
  end
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[i*3-2], 'r', 1)
  redis.call('PEXPIRE', KEYS[i*3-2], ARGV[1])
end
return {0}
";

/// KEYS: three per subject as above. ARGV[1] minute TTL ms, ARGV[2] tokens, ARGV[3] nano-USD.
pub(crate) const RECORD_LUA: &str = r"
local tokens, cost = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, #KEYS, 3 do
  if tokens > 0 then
    redis.call('HINCRBY', KEYS[i], 't', tokens)
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
  if cost > 0 then
    for j = i + 1, i + 2 do
      if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('INCRBY', KEYS[j], cost) end
    end
  end
end
return 1
";

fn timed_out() -> RouteError {
    RouteError::Redis(redis::RedisError::from(std::io::Error::other("no answer within 500 ms")))
}

/// Opens a managed (reconnecting, multiplexed) connection to Redis.
pub async fn connect(url: &str) -> Result<ConnectionManager, RouteError> {
    let client = redis::Client::open(url)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_response_timeout(Some(TIMEOUT))
        .set_number_of_retries(1);
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

/// Counters in Redis.
pub(crate) struct RedisCounters {
    conn: ConnectionManager,
    prefix: Arc<str>,
    check: Arc<Script>,
    record: Arc<Script>,
}

impl RedisCounters {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        RedisCounters {
            conn,
            prefix: format!("{prefix}limits:").into(),
            check: Arc::new(Script::new(CHECK_LUA)),
            record: Arc::new(Script::new(RECORD_LUA)),
        }
    }

    fn keys(&self, s: Subject, w: &Windows) -> [String; 3] {
        let (tag, id) = match s {
            Subject::ApiKey(id) => ('k', id),
            Subject::User(id) => ('u', id),
        };
        let p = &self.prefix;
        [
            format!("{p}{tag}{id}:m{}", w.minute),
            format!("{p}{tag}{id}:d{}", w.day),
            format!("{p}{tag}{id}:M{}", w.month),
        ]
    }

    /// Checks and, when allowed, counts one call (one round trip; two more
    /// only when a budget counter has to be initialised from the log).
    pub async fn admit(&self, db: &Db, subjects: &Subjects, w: &Windows) -> Result<Option<LimitRefusal>, RouteError> {
        let mut initialised = 0;
        loop {
            let mut inv = self.check.prepare_invoke();
            inv.arg(w.minute_end_ms - w.now_ms + MINUTE_SLACK_MS);
            for (s, r) in subjects.iter() {
                inv.key(&self.keys(*s, w)[..]);
                inv.arg(r.rpm).arg(r.tpm).arg(r.day).arg(r.month);
            }
            let got: Vec<i64> = tokio::time::timeout(TIMEOUT, inv.invoke_async(&mut self.conn.clone()))
                .await
                .map_err(|_| timed_out())??;
            let subject = |i: i64| subjects.iter().nth((i - 1).max(0) as usize).map(|(s, r)| (*s, *r));
            match got.as_slice() {
                [1, i, kind, used] => {
                    let Some((s, r)) = subject(*i) else { return Ok(None) };
                    let kind = LimitKind::from_index(*kind);
                    let limit = match kind {
                        LimitKind::Rpm => r.rpm,
                        LimitKind::Tpm => r.tpm,
                        LimitKind::UsdPerDay => r.day,
                        LimitKind::UsdPerMonth => r.month,
                    };
                    return Ok(Some(LimitRefusal::new(s, kind, *used, limit, w)));
                }
                [2, i] if initialised < 2 => {
                    let Some((s, _)) = subject(*i) else { return Ok(None) };
                    self.initialise(db, s, w).await?;
                    initialised += 1;
                }
                _ => return Ok(None),
            }
        }
    }

    /// Seeds a subject's day and month spend from the request log, unless another process already did.
    async fn initialise(&self, db: &Db, s: Subject, w: &Windows) -> Result<(), RouteError> {
        let (day, month) = logged_spend(db, s, w).await?;
        let [_, dk, mk] = self.keys(s, w);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(dk)
            .arg(day)
            .arg("NX")
            .arg("PX")
            .arg(w.day_end_ms - w.now_ms + DAY_SLACK_MS)
            .ignore()
            .cmd("SET")
            .arg(mk)
            .arg(month)
            .arg("NX")
            .arg("PX")
            .arg(w.month_end_ms - w.now_ms + MONTH_SLACK_MS)
            .ignore();
        let mut conn = self.conn.clone();
        tokio::time::timeout(TIMEOUT, pipe.query_async::<()>(&mut conn)).await.map_err(|_| timed_out())??;
        Ok(())
    }

    /// Charges tokens and nano-USD in the background; the caller never waits for Redis.
    pub fn record(&self, subjects: &Subjects, w: &Windows, tokens: i64, nusd: i64) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let keys: Vec<String> = subjects.iter().flat_map(|(s, _)| self.keys(*s, w)).collect();
        let ttl = w.minute_end_ms - w.now_ms + MINUTE_SLACK_MS;
        let script = self.record.clone();
        let mut conn = self.conn.clone();
        rt.spawn(async move {
            let mut inv = script.prepare_invoke();
            inv.key(keys).arg(ttl).arg(tokens).arg(nusd);
            let r = tokio::time::timeout(TIMEOUT * 4, inv.invoke_async::<i64>(&mut conn)).await;
            match r {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not charge usage to the shared limit counters"),
                Err(_) => tracing::warn!("charging usage to the shared limit counters timed out"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    //! The scripts against the real Redis at `SPGW_TEST_REDIS_URL` (skipped when it does not answer, unless CI is set).

    use super::*;
    use crate::limits::{Rules, Subjects};

    async fn test_redis() -> Option<(ConnectionManager, String)> {
        let url = std::env::var("SPGW_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        match tokio::time::timeout(Duration::from_secs(5), connect(&url)).await {
            Ok(Ok(c)) => Some((c, format!("spgw-test-{}:", uuid::Uuid::new_v4().simple()))),
            _ if std::env::var("CI").is_ok() => panic!("CI is set and Redis at {url} is unreachable"),
            _ => {
                eprintln!("skipping: Redis at {url} is unreachable; set SPGW_TEST_REDIS_URL");
                None
            }
        }
    }

    async fn cleanup(conn: &mut ConnectionManager, prefix: &str) {
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(conn).await.unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL").arg(keys).query_async(conn).await.unwrap();
        }
    }

    fn subjects(items: &[(Subject, Rules)]) -> Subjects {
        let mut s = Subjects::default();
        for (subject, rules) in items {
            s.push(*subject, *rules);
        }
        s
    }

    async fn sqlite() -> spgw_store::TempSqlite {
        spgw_store::TempSqlite::new("limits").await.unwrap()
    }

    #[tokio::test]
    async fn rpm_is_checked_and_counted_for_key_and_user_in_one_step() {
        let Some((mut conn, prefix)) = test_redis().await else { return };
        let t = sqlite().await;
        let db = t.db.clone();
        let c = RedisCounters::new(conn.clone(), &prefix);
        let w = Windows::at(spgw_core::time::now_ms());
        let key = (Subject::ApiKey(1), Rules { rpm: 3, tpm: -1, day: -1, month: -1 });
        let user = (Subject::User(1), Rules { rpm: 2, tpm: -1, day: -1, month: -1 });
        let both = subjects(&[key, user]);
        assert_eq!(c.admit(&db, &both, &w).await.unwrap(), None);
        assert_eq!(c.admit(&db, &both, &w).await.unwrap(), None);
        let refused = c.admit(&db, &both, &w).await.unwrap().expect("the user's rpm of 2 is reached");
        assert_eq!((refused.subject, refused.kind, refused.used), (Subject::User(1), LimitKind::Rpm, 2.0));
        // A refused call is not counted: the key alone still has one call left.
        let key_only = subjects(&[key]);
        assert_eq!(c.admit(&db, &key_only, &w).await.unwrap(), None);
        assert!(c.admit(&db, &key_only, &w).await.unwrap().is_some());
        let [mk, _, _] = c.keys(Subject::ApiKey(1), &w);
        let ttl: i64 = redis::cmd("PTTL").arg(&mk).query_async(&mut conn).await.unwrap();
        assert!(ttl > 0 && ttl <= 65_000, "the minute counter expires after its window: {ttl}");
        cleanup(&mut conn, &prefix).await;
        db.close().await;
    }

    #[tokio::test]
    async fn budgets_start_from_the_log_and_charges_refuse_the_next_call() {
        let Some((mut conn, prefix)) = test_redis().await else { return };
        let t = sqlite().await;
        let db = t.db.clone();
        let now = spgw_core::time::now_ms();
        let w = Windows::at(now);
        // 4 µUSD already spent today by user 9 (and one row of another user, not counted).
        for (user, cost) in [(9, 0.000004), (10, 5.0)] {
            db.execute(
                "INSERT INTO request_log (request_id, user_id, endpoint, provider, model, status_code, cost_usd, created_at) \
                 VALUES ('r', ?, 'chat', 'openai', 'gpt', 200, ?, ?)",
                &[spgw_store::Value::Int(user), cost.into(), now.into()],
            )
            .await
            .unwrap();
        }
        let c = RedisCounters::new(conn.clone(), &prefix);
        let rules = Rules { rpm: -1, tpm: 100, day: 5_000, month: -1 };
        let user = subjects(&[(Subject::User(9), rules)]);
        assert_eq!(c.admit(&db, &user, &w).await.unwrap(), None, "4 of 5 µUSD spent");
        let [_, dk, _] = c.keys(Subject::User(9), &w);
        let day: i64 = redis::cmd("GET").arg(&dk).query_async(&mut conn).await.unwrap();
        assert_eq!(day, 4_000, "initialised from the request log");

        c.record(&user, &w, 40, 1_000);
        // The charge runs in the background; wait until it landed.
        for _ in 0..100 {
            let day: i64 = redis::cmd("GET").arg(&dk).query_async(&mut conn).await.unwrap();
            if day == 5_000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let refused = c.admit(&db, &user, &w).await.unwrap().expect("the daily budget is spent");
        assert_eq!(refused.kind, LimitKind::UsdPerDay);
        assert_eq!(refused.retry_after, w.until(w.day_end_ms));

        // Charges never create a budget counter on their own.
        let other = subjects(&[(Subject::User(11), rules)]);
        c.record(&other, &w, 1, 1_000);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let [mk, dk, _] = c.keys(Subject::User(11), &w);
        let exists: i64 = redis::cmd("EXISTS").arg(&dk).query_async(&mut conn).await.unwrap();
        assert_eq!(exists, 0);
        let tokens: i64 = redis::cmd("HGET").arg(&mk).arg("t").query_async(&mut conn).await.unwrap();
        assert_eq!(tokens, 1);
        cleanup(&mut conn, &prefix).await;
        db.close().await;
    }
}
