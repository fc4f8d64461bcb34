//! Redis: redis-rs with the tokio `ConnectionManager`, which reconnects by itself after an outage.
//!
//! Keys, under `sa:{store name}:`:
//! - `doc:{id}`: hash with the document `body` and its `etag`;
//! - `index`: sorted set of ids, all with score 0, so `ZREVRANGEBYLEX` pages through them in id
//!   order (newest first);
//! - `meta`: hash id → `etag US updated-ms US size US name` (US = unit separator) for the summary view;
//! - `names`: hash id → lower-cased name, for search;
//! - `versions:{id}`: list of the model's kept versions (JSON), newest first, and `vdocs:{id}`:
//!   hash ETag → document of those versions. After a delete both expire in `--keep-deleted`;
//! - `deleted` (zset id → delete time) and `deleted_meta` (id → the summary line it had);
//! - `changes`: the change feed, a stream trimmed to `--keep-changes` entries, and
//!   `changes_floor`: the newest entry trimmed from it (an older cursor gets a reset).
//!
//! Each write is one Lua script, so the ETag check, the document, the index, the version and
//! the change event happen together or not at all. Every call is bounded by the backend timeout and answers 503 when it passes.
use std::time::Duration;

use bytes::Bytes;
use redis::{aio::ConnectionManager, AsyncCommands, Script};
use uuid::Uuid;

use sa_shared::history::{Author, Op};

use super::{
    from_millis, millis, now_millis, search_key, BackendError, ChangeEvent, ChangeRead, Cursor,
    Deleted, Expect, ListQuery, Meta, NewDoc, Page, Result, Retention, Stored, VersionMeta,
    Written,
};

const SEP: char = '\u{1f}';

/// Shared by the write scripts. KEYS: 1 doc, 2 index, 3 meta, 4 names, 5 the model's versions
/// (a list, newest first), 6 the model's version documents (hash etag → body), 7 the change
/// stream, 8 deleted (zset id → delete time), 9 deleted summaries (hash id → meta line), 10 the
/// stream's floor (the newest event trimmed from it). ARGV: 1 id, 2 expectation, 3 body, 4 etag,
/// 5 meta line, 6 search name, 7 `restored` or '', 8 author sub, 9 author name,
/// 10 --keep-versions, 11 now (ms), 12 --keep-changes, 13 --keep-deleted (ms), 14 the delete
/// cutoff (ms), 15… the If-Match tags.
const RECORD: &str = r#"
local function record(op, etag, size, body)
  local c = redis.call('XADD', KEYS[7], '*', 'id', ARGV[1], 'etag', etag, 'op', op,
    'sub', ARGV[8], 'name', ARGV[9], 't', ARGV[11])
  local keep_changes = tonumber(ARGV[12])
  local n = redis.call('XLEN', KEYS[7])
  if n > keep_changes then
    local old = redis.call('XRANGE', KEYS[7], '-', '+', 'COUNT', n - keep_changes + 1)
    redis.call('SET', KEYS[10], old[n - keep_changes][1])
    redis.call('XTRIM', KEYS[7], 'MINID', old[#old][1])
  end
  local keep = tonumber(ARGV[10])
  if keep > 0 then
    redis.call('LPUSH', KEYS[5], cjson.encode({c = c, etag = etag, op = op, sub = ARGV[8],
      name = ARGV[9], t = ARGV[11], size = size}))
    if body then redis.call('HSET', KEYS[6], etag, body) end
    local old = redis.call('LRANGE', KEYS[5], keep, -1)
    if #old > 0 then
      redis.call('LTRIM', KEYS[5], 0, keep - 1)
      local live = {}
      for _, e in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
        live[cjson.decode(e).etag] = true
      end
      for _, e in ipairs(old) do
        local t = cjson.decode(e).etag
        if not live[t] then redis.call('HDEL', KEYS[6], t) end
      end
    end
  end
  if op == 'deleted' then
    redis.call('PEXPIRE', KEYS[5], ARGV[13])
    redis.call('PEXPIRE', KEYS[6], ARGV[13])
  else
    redis.call('PERSIST', KEYS[5])
    redis.call('PERSIST', KEYS[6])
  end
  return c
end
"#;

const PUT: &str = r#"
local cur = redis.call('HGET', KEYS[1], 'etag')
local mode = ARGV[2]
if mode == 'absent' and cur then return {'precondition', ''} end
if mode == 'exists' and not cur then return {'precondition', ''} end
if mode == 'etag' then
  local ok = false
  if cur then
    for i = 15, #ARGV do if ARGV[i] == cur then ok = true end end
  end
  if not ok then return {'precondition', ''} end
end
redis.call('HSET', KEYS[1], 'body', ARGV[3], 'etag', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[6])
redis.call('ZREM', KEYS[8], ARGV[1])
redis.call('HDEL', KEYS[9], ARGV[1])
local outcome = 'created'
if cur then outcome = 'updated' end
local op = outcome
if ARGV[7] ~= '' then op = ARGV[7] end
return {outcome, record(op, ARGV[4], #ARGV[3], ARGV[3])}
"#;

const DELETE: &str = r#"
local cur = redis.call('HGET', KEYS[1], 'etag')
if not cur then return {'not_found', ''} end
if ARGV[2] == 'etag' then
  local ok = false
  for i = 15, #ARGV do if ARGV[i] == cur then ok = true end end
  if not ok then return {'precondition', ''} end
end
local line = redis.call('HGET', KEYS[3], ARGV[1]) or ''
local size = tonumber(string.match(line, '^[^\31]*\31[^\31]*\31([0-9]+)')) or 0
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[8], tonumber(ARGV[11]), ARGV[1])
redis.call('HSET', KEYS[9], ARGV[1], line)
-- Models deleted longer ago than --keep-deleted leave the index of deleted models; their
-- history keys expire by themselves.
local gone = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', '(' .. ARGV[14])
for _, g in ipairs(gone) do redis.call('HDEL', KEYS[9], g) end
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. ARGV[14])
return {'deleted', record('deleted', cur, size, false)}
"#;

/// The feed after a cursor, with what tells a reset: `{floor, newest id, entries}`.
/// KEYS: 1 stream, 2 floor; ARGV: 1 the exclusive start, 2 count.
const CHANGES: &str = r#"
local floor = redis.call('GET', KEYS[2]) or '0-0'
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local head = floor
if #newest > 0 then head = newest[1][1] end
return {floor, head, redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])}
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
    /// The feed reader's own connection: `XREAD BLOCK` would stall every request queued
    /// behind it on the shared one.
    reader: ConnectionManager,
    prefix: String,
    timeout: Duration,
    retention: Retention,
    put: Script,
    delete: Script,
    list: Script,
    changes: Script,
}

/// How long the feed reader's `XREAD` waits for an event before it asks again.
const BLOCK: Duration = Duration::from_secs(5);

impl RedisBackend {
    /// Builds the client without connecting: the store starts (and answers 503) while Redis is down.
    pub fn connect_lazy(
        url: &str,
        store_name: &str,
        timeout: Duration,
        retention: Retention,
    ) -> anyhow::Result<RedisBackend> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("bad --redis-url {url:?}: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let reader_config = config.clone().set_response_timeout(Some(timeout + BLOCK));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("redis: {e}"))?;
        let reader = ConnectionManager::new_lazy_with_config(client, reader_config)
            .map_err(|e| anyhow::anyhow!("redis: {e}"))?;
        Ok(RedisBackend {
            conn,
            reader,
            prefix: format!("sa:{store_name}:"),
            timeout,
            retention,
            put: Script::new(&format!("{RECORD}{PUT}")),
            delete: Script::new(&format!("{RECORD}{DELETE}")),
            list: Script::new(LIST),
            changes: Script::new(CHANGES),
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

impl RedisBackend {
    /// The keys and the leading arguments every write script takes (see [`RECORD`]).
    fn write_invocation<'a>(
        &self,
        script: &'a Script,
        id: Uuid,
        by: &Author,
        restored: bool,
        expect: &Expect,
        doc: [&[u8]; 4],
    ) -> redis::ScriptInvocation<'a> {
        let id_s = id.hyphenated().to_string();
        let mut inv = script.prepare_invoke();
        inv.key(self.doc_key(id))
            .key(self.key("index"))
            .key(self.key("meta"))
            .key(self.key("names"))
            .key(self.key(&format!("versions:{id_s}")))
            .key(self.key(&format!("vdocs:{id_s}")))
            .key(self.key("changes"))
            .key(self.key("deleted"))
            .key(self.key("deleted_meta"))
            .key(self.key("changes_floor"));
        let now = now_millis();
        let keep_deleted = self.retention.deleted.as_millis().max(1) as u64;
        let (mode, tags) = expect_args(expect);
        inv.arg(id_s).arg(mode);
        for part in doc {
            inv.arg(part);
        }
        inv.arg(if restored { "restored" } else { "" })
            .arg(&by.sub)
            .arg(&by.name)
            .arg(self.retention.versions)
            .arg(millis(now))
            .arg(self.retention.changes.max(1))
            .arg(keep_deleted)
            .arg(millis(self.retention.deleted_cutoff(now)));
        for t in tags {
            inv.arg(t);
        }
        inv
    }
}

/// A stream entry `[id, [field, value, …]]` as a change event.
fn parse_entry(v: &redis::Value) -> Option<ChangeEvent> {
    let redis::Value::Array(parts) = v else {
        return None;
    };
    let [id, redis::Value::Array(fields)] = parts.as_slice() else {
        return None;
    };
    let text = |v: &redis::Value| match v {
        redis::Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let mut map = std::collections::HashMap::new();
    for pair in fields.chunks(2) {
        if let [k, v] = pair {
            map.insert(text(k)?, text(v)?);
        }
    }
    Some(ChangeEvent {
        cursor: Cursor::parse(&text(id)?)?,
        id: Uuid::parse_str(map.get("id")?).ok()?,
        etag: map.get("etag")?.clone(),
        op: Op::parse(map.get("op")?)?,
        by: Author {
            sub: map.get("sub")?.clone(),
            name: map.get("name")?.clone(),
        },
        updated: from_millis(map.get("t")?.parse().ok()?),
    })
}

/// A version as the write script keeps it (JSON made by `cjson`).
#[derive(serde::Deserialize)]
struct StoredVersion {
    c: String,
    etag: String,
    op: String,
    sub: String,
    name: String,
    t: String,
    size: u64,
}

fn parse_version(raw: &str) -> Option<VersionMeta> {
    let v: StoredVersion = serde_json::from_str(raw).ok()?;
    Some(VersionMeta {
        cursor: Cursor::parse(&v.c)?,
        etag: v.etag,
        updated: from_millis(v.t.parse().ok()?),
        by: Author {
            sub: v.sub,
            name: v.name,
        },
        size: v.size,
        op: Op::parse(&v.op)?,
    })
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
        let meta_line = format!(
            "{}{SEP}{}{SEP}{}{SEP}{}",
            doc.etag,
            millis(doc.updated),
            doc.body.len(),
            doc.name
        );
        let name_lower = search_key(&doc.name);
        let inv = self.write_invocation(
            &self.put,
            id,
            &doc.by,
            doc.restored,
            &expect,
            [
                doc.body.as_ref(),
                doc.etag.as_bytes(),
                meta_line.as_bytes(),
                name_lower.as_bytes(),
            ],
        );
        let (outcome, _cursor): (String, String) = self.bounded(inv.invoke_async(&mut c)).await?;
        Ok(match outcome.as_str() {
            "created" => Written::Created,
            "updated" => Written::Updated,
            _ => Written::PreconditionFailed,
        })
    }

    async fn delete(&self, id: Uuid, expect: Expect, by: Author) -> Result<Deleted> {
        let mut c = self.conn.clone();
        let inv = self.write_invocation(&self.delete, id, &by, false, &expect, [b""; 4]);
        let (outcome, _cursor): (String, String) = self.bounded(inv.invoke_async(&mut c)).await?;
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

    async fn versions(&self, id: Uuid) -> Result<Vec<VersionMeta>> {
        let mut c = self.conn.clone();
        let key = self.key(&format!("versions:{}", id.hyphenated()));
        let raw: Vec<String> = self
            .bounded(async move { c.lrange(&key, 0, -1).await })
            .await?;
        Ok(raw.iter().filter_map(|r| parse_version(r)).collect())
    }

    async fn version_body(&self, id: Uuid, etag: &str) -> Result<Option<Bytes>> {
        let mut c = self.conn.clone();
        let key = self.key(&format!("vdocs:{}", id.hyphenated()));
        let etag = etag.to_string();
        let body: Option<Vec<u8>> = self
            .bounded(async move { c.hget(&key, &etag).await })
            .await?;
        Ok(body.map(Bytes::from))
    }

    async fn deleted(&self, query: ListQuery) -> Result<Page> {
        let mut c = self.conn.clone();
        let cutoff = millis(self.retention.deleted_cutoff(now_millis()));
        let (zkey, hkey) = (self.key("deleted"), self.key("deleted_meta"));
        let scored: Vec<(String, f64)> = self
            .bounded(async move { c.zrangebyscore_withscores(&zkey, cutoff, "+inf").await })
            .await?;
        let mut rows: Vec<(String, f64)> = scored;
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        let mut c = self.conn.clone();
        let lines: Vec<Option<String>> = if ids.is_empty() {
            Vec::new()
        } else {
            let ids = ids.clone();
            self.bounded(async move {
                redis::cmd("HMGET")
                    .arg(&hkey)
                    .arg(&ids)
                    .query_async(&mut c)
                    .await
            })
            .await?
        };
        let all: Vec<Meta> = rows
            .iter()
            .zip(lines)
            .filter_map(|((id, at), line)| {
                let mut m = parse_meta(id, line)?;
                m.updated = from_millis(*at as i64);
                query.matches(&search_key(&m.name)).then_some(m)
            })
            .collect();
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .filter(|m| query.after.is_none_or(|a| m.id < a))
            .take(query.limit + 1)
            .collect();
        Ok(Page::from_overfetch(items, query.limit, total))
    }

    fn cursor_ok(&self, c: &Cursor) -> bool {
        c.lo.is_some()
    }

    async fn changes(&self, after: Cursor, limit: usize) -> Result<ChangeRead> {
        let mut c = self.conn.clone();
        let mut inv = self.changes.prepare_invoke();
        inv.key(self.key("changes")).key(self.key("changes_floor"));
        inv.arg(format!("({after}")).arg(limit);
        let (floor, head, entries): (String, String, Vec<redis::Value>) =
            self.bounded(inv.invoke_async(&mut c)).await?;
        let floor = Cursor::parse(&floor).unwrap_or_default();
        let head = Cursor::parse(&head).unwrap_or_default();
        if after < floor || after > head.max(floor) {
            return Ok(ChangeRead {
                events: Vec::new(),
                reset: true,
            });
        }
        Ok(ChangeRead {
            events: entries.iter().filter_map(parse_entry).collect(),
            reset: false,
        })
    }

    async fn head(&self) -> Result<Cursor> {
        let mut c = self.conn.clone();
        let key = self.key("changes");
        let newest: Vec<redis::Value> = self
            .bounded(async move {
                redis::cmd("XREVRANGE")
                    .arg(&key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(newest
            .first()
            .and_then(parse_entry)
            .map(|e| e.cursor)
            .unwrap_or(Cursor { hi: 0, lo: Some(0) }))
    }

    async fn wait_changes(&self, after: Cursor, limit: usize) -> Result<ChangeRead> {
        let mut c = self.reader.clone();
        let key = self.key("changes");
        let reply: redis::Value = match tokio::time::timeout(
            self.timeout + BLOCK,
            redis::cmd("XREAD")
                .arg("COUNT")
                .arg(limit)
                .arg("BLOCK")
                .arg(BLOCK.as_millis() as u64)
                .arg("STREAMS")
                .arg(&key)
                .arg(after.to_string())
                .query_async::<redis::Value>(&mut c),
        )
        .await
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(BackendError(format!("redis: {e}"))),
            Err(_) => return Err(BackendError("redis: XREAD did not answer".into())),
        };
        // `[[stream, [entry…]]]`, or nil when nothing came within the block.
        let mut events = Vec::new();
        if let redis::Value::Array(streams) = reply {
            for s in streams {
                if let redis::Value::Array(pair) = s {
                    if let Some(redis::Value::Array(entries)) = pair.get(1) {
                        events.extend(entries.iter().filter_map(parse_entry));
                    }
                }
            }
        }
        Ok(ChangeRead {
            events,
            reset: false,
        })
    }
}
