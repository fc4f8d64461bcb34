//! Redis: redis-rs with the tokio `ConnectionManager`, which reconnects by itself after an outage.
//!
//! Keys, under `sa:{store name}:`:
//! - `doc:{id}`: hash with the document `body` and its `etag`;
//! - `index`: sorted set of ids, all with score 0, so `ZREVRANGEBYLEX` pages through them in id
//!   order (newest first);
//! - `meta`: hash id → `etag US updated-ms US size US name` (US = unit separator) for the summary view;
//! - `names`: hash id → lower-cased name, for search.
//!
//! Each write is one Lua script, so the ETag check, the document and the index change together
//! or not at all. Every call is bounded by the backend timeout and answers 503 when it passes.
use std::time::Duration;

use bytes::Bytes;
use redis::{aio::ConnectionManager, AsyncCommands, Script};
use uuid::Uuid;

use super::{
    from_millis, millis, search_key, BackendError, Deleted, Expect, ListQuery, Meta, NewDoc, Page,
    Result, Stored, Written,
};

const SEP: char = '\u{1f}';

const PUT: &str = r#"
local cur = redis.call('HGET', KEYS[1], 'etag')
local mode = ARGV[2]
if mode == 'absent' and cur then return 'precondition' end
if mode == 'exists' and not cur then return 'precondition' end
if mode == 'etag' then
  local ok = false
  if cur then
    for i = 7, #ARGV do if ARGV[i] == cur then ok = true end end
  end
  if not ok then return 'precondition' end
end
redis.call('HSET', KEYS[1], 'body', ARGV[3], 'etag', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[6])
if cur then return 'updated' end
return 'created'
"#;

const DELETE: &str = r#"
local cur = redis.call('HGET', KEYS[1], 'etag')
if not cur then return 'not_found' end
if ARGV[2] == 'exists' then ARGV[2] = 'any' end
if ARGV[2] == 'etag' then
  local ok = false
  for i = 3, #ARGV do if ARGV[i] == cur then ok = true end end
  if not ok then return 'precondition' end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 'deleted'
"#;

/// Returns `{total, ids, metas}`; ARGV: max bound for ZREVRANGEBYLEX, limit+1, lower-cased query,
/// the cursor id ('' for the first page).
const LIST: &str = r#"
local want = tonumber(ARGV[2])
local q = ARGV[3]
local ids = {}
local total = 0
if q == '' then
  ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], '-', 'LIMIT', 0, want)
  total = redis.call('ZCARD', KEYS[1])
else
  local names = redis.call('HGETALL', KEYS[3])
  local byid = {}
  for i = 1, #names, 2 do byid[names[i]] = names[i + 1] end
  local after = ARGV[4]
  for _, id in ipairs(redis.call('ZREVRANGEBYLEX', KEYS[1], '+', '-')) do
    local n = byid[id]
    if n and string.find(n, q, 1, true) then
      total = total + 1
      if #ids < want and (after == '' or id < after) then ids[#ids + 1] = id end
    end
  end
end
local metas = {}
if #ids > 0 then metas = redis.call('HMGET', KEYS[2], unpack(ids)) end
return {total, ids, metas}
"#;

pub struct RedisBackend {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    put: Script,
    delete: Script,
    list: Script,
}

impl RedisBackend {
    /// Builds the client without connecting: the store starts (and answers 503) while Redis is down.
    pub fn connect_lazy(
        url: &str,
        store_name: &str,
        timeout: Duration,
    ) -> anyhow::Result<RedisBackend> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("bad --redis-url {url:?}: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| anyhow::anyhow!("redis: {e}"))?;
        Ok(RedisBackend {
            conn,
            prefix: format!("sa:{store_name}:"),
            timeout,
            put: Script::new(PUT),
            delete: Script::new(DELETE),
            list: Script::new(LIST),
        })
    }

    fn key(&self, part: &str) -> String {
        format!("{}{part}", self.prefix)
    }

    fn doc_key(&self, id: Uuid) -> String {
        format!("{}doc:{}", self.prefix, id.hyphenated())
    }

    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(BackendError(format!("redis: {e}"))),
            Err(_) => Err(BackendError(format!(
                "redis did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

fn parse_meta(id: &str, line: Option<String>) -> Option<Meta> {
    let line = line?;
    let mut parts = line.splitn(4, SEP);
    let etag = parts.next()?.to_string();
    let updated = from_millis(parts.next()?.parse().ok()?);
    let size = parts.next()?.parse().ok()?;
    let name = parts.next()?.to_string();
    Some(Meta {
        id: Uuid::parse_str(id).ok()?,
        name,
        updated,
        size,
        etag,
    })
}

fn expect_args(expect: &Expect) -> (&'static str, &[String]) {
    match expect {
        Expect::Anything => ("any", &[]),
        Expect::Absent => ("absent", &[]),
        Expect::Exists => ("exists", &[]),
        Expect::Etag(tags) => ("etag", tags.as_slice()),
    }
}

impl super::Backend for RedisBackend {
    fn kind(&self) -> sa_shared::routes::Backend {
        sa_shared::routes::Backend::Redis
    }

    async fn get(&self, id: Uuid) -> Result<Option<Stored>> {
        let mut c = self.conn.clone();
        let key = self.doc_key(id);
        let (body, etag): (Option<Vec<u8>>, Option<String>) = self
            .bounded(async move {
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("body")
                    .arg("etag")
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(match (body, etag) {
            (Some(body), Some(etag)) => Some(Stored {
                body: Bytes::from(body),
                etag,
            }),
            _ => None,
        })
    }

    async fn put(&self, id: Uuid, doc: NewDoc, expect: Expect) -> Result<Written> {
        let mut c = self.conn.clone();
        let id_s = id.hyphenated().to_string();
        let meta_line = format!(
            "{}{SEP}{}{SEP}{}{SEP}{}",
            doc.etag,
            millis(doc.updated),
            doc.body.len(),
            doc.name
        );
        let (mode, tags) = expect_args(&expect);
        let mut inv = self.put.prepare_invoke();
        inv.key(self.doc_key(id))
            .key(self.key("index"))
            .key(self.key("meta"))
            .key(self.key("names"));
        inv.arg(&id_s)
            .arg(mode)
            .arg(doc.body.as_ref())
            .arg(&doc.etag)
            .arg(&meta_line)
            .arg(search_key(&doc.name));
        for t in tags {
            inv.arg(t);
        }
        let outcome: String = self.bounded(inv.invoke_async(&mut c)).await?;
        Ok(match outcome.as_str() {
            "created" => Written::Created,
            "updated" => Written::Updated,
            _ => Written::PreconditionFailed,
        })
    }

    async fn delete(&self, id: Uuid, expect: Expect) -> Result<Deleted> {
        let mut c = self.conn.clone();
        let (mode, tags) = expect_args(&expect);
        let mut inv = self.delete.prepare_invoke();
        inv.key(self.doc_key(id))
            .key(self.key("index"))
            .key(self.key("meta"))
            .key(self.key("names"));
        inv.arg(id.hyphenated().to_string()).arg(mode);
        for t in tags {
            inv.arg(t);
        }
        let outcome: String = self.bounded(inv.invoke_async(&mut c)).await?;
        Ok(match outcome.as_str() {
            "deleted" => Deleted::Deleted,
            "not_found" => Deleted::NotFound,
            _ => Deleted::PreconditionFailed,
        })
    }

    async fn list(&self, query: ListQuery) -> Result<Page> {
        let mut c = self.conn.clone();
        let after = query
            .after
            .map(|a| a.hyphenated().to_string())
            .unwrap_or_default();
        let max = if after.is_empty() {
            "+".to_string()
        } else {
            format!("({after}")
        };
        let mut inv = self.list.prepare_invoke();
        inv.key(self.key("index"))
            .key(self.key("meta"))
            .key(self.key("names"));
        inv.arg(max)
            .arg(query.limit + 1)
            .arg(query.q.clone().unwrap_or_default())
            .arg(&after);
        let (total, ids, metas): (u64, Vec<String>, Vec<Option<String>>) =
            self.bounded(inv.invoke_async(&mut c)).await?;
        let items: Vec<Meta> = ids
            .iter()
            .zip(metas)
            .filter_map(|(id, m)| parse_meta(id, m))
            .collect();
        Ok(Page::from_overfetch(items, query.limit, total))
    }

    async fn ids(&self) -> Result<Vec<Uuid>> {
        let mut c = self.conn.clone();
        let key = self.key("index");
        let ids: Vec<String> = self
            .bounded(async move { c.zrevrangebylex(&key, "+", "-").await })
            .await?;
        Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
    }

    async fn ids_page(&self, after: Option<Uuid>, limit: usize) -> Result<Vec<Uuid>> {
        let mut c = self.conn.clone();
        let key = self.key("index");
        let max = after.map_or_else(|| "+".to_string(), |a| format!("({}", a.hyphenated()));
        let ids: Vec<String> = self
            .bounded(async move {
                c.zrevrangebylex_limit(&key, max, "-", 0, limit as isize)
                    .await
            })
            .await?;
        Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
    }

    async fn ready(&self) -> Result<()> {
        let mut c = self.conn.clone();
        let pong: String = self
            .bounded(async move { redis::cmd("PING").query_async(&mut c).await })
            .await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(BackendError(format!("redis answered {pong:?} to PING")))
        }
    }
}
