//! Everything that touches SQL. `Store` owns the r2d2 pool of read connections and
//! the one write connection; callers hand it a short, synchronous closure that runs
//! on a database thread, so no connection is ever held across an `.await`. Write
//! closures run inside `BEGIN IMMEDIATE` transactions, one at a time, on the
//! writer's own thread.

pub mod addresses;
pub mod cleanup;
mod codec;

pub mod codes;
pub mod courier;
pub mod errors;
pub mod flows;
mod fresh;
pub mod identities;
pub mod migrate;
mod pending;
pub mod sessions;
#[cfg(debug_assertions)]
mod unseen;
pub mod whoami;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use fresh::Touched;
pub use rusqlite::Connection as Conn;

/// Failures of the storage layer. Domain code maps them to its own errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no database connection became free in time")]
    Pool(#[from] r2d2::Error),
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the blocking task was cancelled")]
    Blocking,
    #[error("no database worker became free in time")]
    Saturated,
    #[error("a unique constraint failed: {what}")]
    Conflict { what: &'static str },
    #[error("stored data is not in the expected format: {0}")]
    Corrupt(String),
    #[error(
        "the database schema version {found} is newer than this binary supports ({supported})"
    )]
    TooNew { found: i64, supported: i64 },
}

impl StoreError {
    /// True when retrying later may succeed (pool exhausted, database locked).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) | StoreError::Saturated => true,
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }
}

/// Maps a UNIQUE violation to `Conflict { what }`; other errors pass through. Call it
/// in the store function that knows which index can fire.
pub(crate) fn on_unique(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error() {
        Some(s) if s.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            StoreError::Conflict { what }
        }
        _ => StoreError::Sqlite(e),
    }
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub pool_size: u32,
    pub connection_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    /// Read connections (`query_only`): reads never wait for a write.
    pool: Pool<SqliteConnectionManager>,
    /// The one connection that writes, used only on `write_thread`. SQLite lets
    /// one writer in at a time anyway; with several write connections the
    /// others waited in SQLite's busy handler (sleeps of 1 to 100 ms), and
    /// every commit by one emptied the page caches of all the others, so each
    /// write began by reading the B-tree pages it needed again. One writer
    /// queues writes in order and keeps its cache warm.
    writer: std::sync::Arc<std::sync::Mutex<Writer>>,
    write_thread: crate::workers::Workers,
    path: PathBuf,
    /// Bumped after every committed write that may change what a session
    /// check reads (`write`, `write_touching`; not `write_relaxed`, which only
    /// stores flows, nor `write_unseen`): the clock of `fresh`.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Which generations made which cached answers stale (`fresh.rs`).
    fresh: std::sync::Arc<std::sync::RwLock<fresh::Freshness>>,
    /// Syncs of the WAL file so far (the admin listener's metrics report it
    /// as `postern_db_wal_syncs_total`).
    wal_syncs: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// New flows not yet written (`pending.rs`).
    pending: std::sync::Arc<pending::Pending>,
    /// The threads that run reads (as many as pooled connections).
    workers: crate::workers::Workers,
    /// How long work may wait for a free worker before the request gets 503.
    wait: Duration,
}

thread_local! {
    /// Read connections of this thread, per database (see `read_here`).
    static LOCAL_READERS: std::cell::RefCell<std::collections::HashMap<PathBuf, LocalReaders>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// One thread's read connections to one database, opened on first use.
#[derive(Default)]
struct LocalReaders {
    mapped: Option<Connection>,
    fresh: Option<Connection>,
}

/// How a `read_here` connection reads database pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pages {
    /// From a mapping of the database file: straight from the OS page cache,
    /// without a pread() and copy per page (a third off a session check that
    /// misses the in-process cache). Address space only; the pages are the
    /// kernel's file cache, shared and reclaimable. For data that is read far
    /// more often than the database changes.
    Mapped,
    /// With a pread() per page, for data read moments after it was written
    /// (flows). SQLite drops a connection's mapping whenever another
    /// connection has committed since its last read, and unmapping and
    /// mapping the whole file again (munmap, mmap, page faults) cost the flow
    /// lookup more than the mapping saved: 0.3% of the server's core under
    /// registration load.
    Fresh,
}

/// Per-connection settings. `journal_mode=WAL` persists in the file and is set once
/// in `open`; the rest must be set on every connection. (`synchronous` matters
/// only to the writer, which sets it: see `Writer`.)
const CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
     PRAGMA busy_timeout = 5000;";

/// Prepared statements each connection keeps (rusqlite's default is 16).
/// Every statement the store runs goes through `prepare_cached`, and the
/// cache evicts the least recently used: with 16 slots, the write
/// connection — which runs every kind of write — re-prepared most of a
/// registration's eleven statements whenever a verification, a logout or
/// a settings change ran in between (a sign-up, verify, log-in cycle needs
/// about twenty), and parsing and planning a statement again costs about
/// as much as running it. Room for all of them; a statement is prepared
/// only when first used, so an idle connection holds none.
const STATEMENT_CACHE: usize = 128;

/// Applies the per-connection settings; every connection the store opens
/// goes through here.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(CONNECTION_PRAGMAS)
}

/// Map up to 1 GiB of the database file (address space, not memory).
const MAP_FILE: &str = "PRAGMA mmap_size = 1073741824";

/// The write connection, and its WAL file for making commits durable.
///
/// The connection runs at `synchronous = NORMAL`: a commit appends its pages
/// to the WAL without waiting for the disk. A durable write then syncs the
/// WAL file itself (fdatasync), before its caller hears that it committed, so
/// what a client is told has succeeded survives a power cut, as under
/// `synchronous = FULL`, which makes SQLite do the same sync inside the commit.
/// Doing it here instead means one setting for every write: relaxed writes
/// (flows) used to switch the connection to NORMAL and durable ones back to
/// FULL, and each switch re-parsed a PRAGMA (SQLite re-prepares PRAGMA
/// statements on every run). The difference from FULL: a commit is visible to
/// other requests from the moment it commits, a fraction of a millisecond
/// before its sync returns. Checkpoints are as before: at NORMAL SQLite still
/// syncs the WAL before copying it into the database, and the database after.
struct Writer {
    conn: Connection,
    /// The `-wal` file, open for as long as the store (SQLite removes it
    /// only when the last connection closes, and this one is never closed
    /// first). SQLite holds no file locks on it, so this descriptor cannot
    /// disturb SQLite's own.
    wal: std::fs::File,
    /// Debug builds: a read connection that sees the last commit, for
    /// checking a write's declaration before it commits (`unseen.rs`).
    #[cfg(debug_assertions)]
    before: Connection,
}

/// Puts everything committed so far on disk. A failure leaves the commit in
/// place but unconfirmed; the write answers with an error.
fn sync(wal: &std::fs::File) -> Result<(), StoreError> {
    wal.sync_data()
        .map_err(|e| StoreError::Corrupt(format!("cannot sync the write-ahead log: {e}")))
}

impl Store {
    /// Opens (creating if needed) the database file, switches it to WAL, applies
    /// pending migrations and builds the pool.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Migrations commit inside SQLite with the sync (FULL); then the
        // connection becomes the writer, which syncs by itself.
        conn.execute_batch("PRAGMA synchronous = FULL")?;
        migrate::run(&mut conn)?;
        // The migrating connection stays on as the writer. A write reads the
        // B-tree pages it changes; mapped, those that are not in its cache come
        // from the OS page cache without a pread() each (see `read_here`).
        conn.execute_batch(MAP_FILE)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        // Entering WAL mode created the file.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = std::fs::OpenOptions::new()
            .write(true)
            .open(&wal_path)
            .map_err(|e| {
                StoreError::Corrupt(format!(
                    "cannot open {}: {e}",
                    Path::new(&wal_path).display()
                ))
            })?;
        let writer = Writer {
            conn,
            wal,
            #[cfg(debug_assertions)]
            before: {
                let c =
                    Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                configure(&c)?;
                c
            },
        };

        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            configure(c)?;
            // Writes go through the writer only; a read that tried one would fail.
            c.execute_batch("PRAGMA query_only = ON")
        });
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            .build(manager)?;
        let threads = |name: &str, n: usize| {
            crate::workers::Workers::new(name, n)
                .map_err(|e| StoreError::Corrupt(format!("cannot start database threads: {e}")))
        };
        let workers = threads("db", options.pool_size.max(1) as usize)?;
        let write_thread = threads("db-write", 1)?;
        Ok(Store {
            pool,
            writer: std::sync::Arc::new(std::sync::Mutex::new(writer)),
            write_thread,
            path: path.to_path_buf(),
            generation: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
            fresh: std::sync::Arc::default(),
            wal_syncs: std::sync::Arc::default(),
            pending: std::sync::Arc::default(),
            workers,
            wait: options.connection_timeout,
        })
    }

    /// (open connections, idle connections) of the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read-only closure on a pooled connection, off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.on(&self.workers, move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await?
    }

    /// Runs `f` on one of `threads` (the readers or the writer), or fails with
    /// `Saturated` when none became free within the wait (the caller answers 503).
    async fn on<T: Send + 'static>(
        &self,
        threads: &crate::workers::Workers,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        match threads.run_within(self.wait, f).await {
            Some(Some(out)) => Ok(out),
            Some(None) => Err(StoreError::Saturated),
            None => Err(StoreError::Blocking),
        }
    }

    /// Runs a closure inside one `BEGIN IMMEDIATE` transaction, committed when the
    /// closure returns `Ok`. Keep it to SQL: nothing slow happens while the write
    /// lock is held.
    ///
    /// The closure may fail with any error that a `StoreError` converts into, so
    /// domain code can validate inside the transaction and roll it back.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        self.declared(true, Touched::Everything, f).await
    }

    /// A durable `write` that concerns only `identity` (its row, credentials,
    /// addresses or sessions: a logout, a settings change, an admin edit), so
    /// every other user's cached session check stays valid. Checked in debug
    /// builds like `write_touching`.
    pub async fn write_for_identity<T, E, F>(&self, identity: uuid::Uuid, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        self.declared(true, Touched::Identity(identity), f).await
    }

    /// A durable `write` whose closure also says which cached session checks
    /// it may have made stale, for when that is known only inside it (whose
    /// session a token was): `Touched::Identity` for a change that only
    /// concerns one identity's sessions, identity row or addresses, so that
    /// every other user's cached check stays valid. Debug builds (so
    /// every test) check, before the commit, that every existing row it
    /// changed or deleted in a table a session check reads was and is that
    /// identity's, and that it added addresses or devices only to it.
    pub async fn write_touching<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<(T, Touched), E> + Send + 'static,
    {
        self.transact(true, f).await
    }

    /// A durable `write` that no session check can see, so the session-check
    /// cache stays valid: it only adds rows a check has never read (a new
    /// session and its device, a new identity with its addresses), or
    /// touches tables a check does not read (courier, flow errors,
    /// credentials). Anything that changes an existing session, identity or
    /// address must use `write_for_identity` or `write_touching` (one
    /// identity's) or `write`; debug
    /// builds (so every test) check this on every call (`unseen.rs`).
    pub async fn write_unseen<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        self.declared(true, Touched::Nothing, f).await
    }

    /// Like `write`, for changes that may be lost on power failure without
    /// harm (self-service flows: the user just starts again): committed without
    /// waiting for the disk. The next ordinary `write` makes them durable too.
    /// Flows never feed a session check, so these writes leave the generation
    /// alone: opening a login page does not empty the session-check cache.
    pub async fn write_relaxed<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        self.declared(false, Touched::Nothing, f).await
    }

    /// `transact` for a closure whose `touched` is known before it runs.
    async fn declared<T, E, F>(&self, durable: bool, touched: Touched, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        self.transact(durable, move |tx| f(tx).map(|out| (out, touched)))
            .await
    }

    /// One immediate transaction on the writer's thread; `durable` writes wait
    /// for the disk, and what the closure touched takes the next generation.
    async fn transact<T, E, F>(&self, durable: bool, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<(T, Touched), E> + Send + 'static,
    {
        let writer = self.writer.clone();
        let generation = self.generation.clone();
        let fresh = self.fresh.clone();
        let wal_syncs = self.wal_syncs.clone();
        let pending = self.pending.clone();
        let work = move || {
            // Only the write thread takes this lock, so it never waits; a
            // write that panicked has been rolled back by the transaction's drop.
            let mut writer = writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            #[cfg(debug_assertions)]
            let Writer { conn, wal, before } = &mut *writer;
            #[cfg(not(debug_assertions))]
            let Writer { conn, wal } = &mut *writer;
            #[cfg(debug_assertions)]
            let watch = unseen::watch(conn);
            let result = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(StoreError::from)?;
                // New flows first: everything after them may refer to them.
                let flows = pending.write_into(&tx)?;
                let (out, touched) = f(&tx)?;
                #[cfg(debug_assertions)]
                unseen::check_before_commit(&tx, before, &watch, touched);
                tx.commit().map_err(StoreError::from)?;
                pending.written(&flows);
                if touched.marks() {
                    // Under the lock, so that a check sees the new generation
                    // only together with what it made stale.
                    let mut fresh = fresh
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let now = generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    fresh.mark(touched, now);
                }
                if durable {
                    sync(wal)?;
                    wal_syncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(out)
            })();
            #[cfg(debug_assertions)]
            unseen::finish(conn);
            result
        };
        self.on(&self.write_thread, work).await?
    }

    /// The count of WAL syncs so far (one per durable write).
    pub fn wal_syncs(&self) -> u64 {
        self.wal_syncs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current write generation (see `generation`): take it before a
    /// read whose answer is kept, and ask `is_fresh` with it later.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether an answer about `identity` read at generation `read_at` is
    /// still what the database holds (`fresh.rs`).
    pub fn is_fresh(&self, read_at: u64, identity: uuid::Uuid) -> bool {
        self.fresh
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_fresh(read_at, identity)
    }

    /// Runs a short read on this thread's own connection, without the blocking
    /// pool's hand-off. Only for a few indexed point queries that take
    /// microseconds (the session check, a flow lookup, the login's credential
    /// lookup): they cost less to run here than to move to another thread and
    /// back. WAL readers are never blocked by
    /// writers, and the connection is private, so nothing here waits on a pool.
    ///
    /// `Pages` says how the connection reads pages, by how fresh the data is.
    pub fn read_here<T>(
        &self,
        pages: Pages,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        LOCAL_READERS.with(|readers| {
            let mut readers = readers.borrow_mut();
            // The path is cloned once per thread, not on every check.
            if !readers.contains_key(&self.path) {
                readers.insert(self.path.clone(), LocalReaders::default());
            }
            let mine = readers.get_mut(&self.path).ok_or(StoreError::Blocking)?;
            let slot = match pages {
                Pages::Mapped => &mut mine.mapped,
                Pages::Fresh => &mut mine.fresh,
            };
            if slot.is_none() {
                let conn = Connection::open_with_flags(
                    &self.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )?;
                configure(&conn)?;
                if pages == Pages::Mapped {
                    conn.execute_batch(MAP_FILE)?;
                }
                *slot = Some(conn);
            }
            match slot {
                Some(conn) => f(conn),
                None => Err(StoreError::Blocking),
            }
        })
    }

    /// A real query against Postern's own schema through the pool: what
    /// `/health/ready` reports.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT count(*) FROM (SELECT 1 FROM identities LIMIT 1)")?
                .query_row([], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
        .await
    }
}

/// Every statement the store prepares (each module lists its own).
#[cfg(test)]
pub(crate) fn all_statements() -> Vec<&'static str> {
    [
        identities::STATEMENTS,
        flows::STATEMENTS,
        sessions::STATEMENTS,
        errors::STATEMENTS,
        codes::STATEMENTS,
        courier::STATEMENTS,
        addresses::STATEMENTS,
        cleanup::STATEMENTS,
        whoami::STATEMENTS,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::{Pages, Store, StoreError, StoreOptions};
    use rusqlite::StatementStatus;

    /// A store on a new file in a temporary directory (kept while it lives).
    pub(super) fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite"), &StoreOptions::default()).unwrap();
        (dir, store)
    }

    const INSERT: &str = "INSERT INTO selfservice_errors (id, error, created_at, updated_at)
        VALUES (?1, '{}', 0, 0)";

    async fn count(store: &Store) -> i64 {
        store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM selfservice_errors", [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn connections_keep_every_statement_of_the_store_prepared() {
        let (_dir, store) = open();
        let all = super::all_statements();
        // More than rusqlite's default cache holds, or this proves nothing.
        assert!(all.len() > 16, "{} statements", all.len());
        // Runs each statement once, then asks the cache for each again: one
        // the cache kept has run before; one it evicted is prepared afresh
        // and has not. Parameters are unbound (NULL), so on this empty
        // database the statements change nothing or fail a NOT NULL check
        // after running, which is all this needs.
        let not_kept = |c: &rusqlite::Connection, all: &[&'static str]| {
            for sql in all {
                let mut s = c.prepare_cached(sql)?;
                let _ = s.raw_query().next();
            }
            let mut not_kept = Vec::new();
            for sql in all {
                if c.prepare_cached(sql)?.get_status(StatementStatus::VmStep) == 0 {
                    not_kept.push(*sql);
                }
            }
            Ok::<_, StoreError>(not_kept)
        };
        let statements = all.clone();
        let written = store
            .write(move |tx| not_kept(tx, &statements))
            .await
            .unwrap();
        assert_eq!(written, Vec::<&str>::new(), "the write connection");
        let statements = all.clone();
        let read = store.read(move |c| not_kept(c, &statements)).await.unwrap();
        assert_eq!(read, Vec::<&str>::new(), "a pooled read connection");
        let here = store
            .read_here(Pages::Fresh, |c| not_kept(c, &all))
            .unwrap();
        assert_eq!(here, Vec::<&str>::new(), "a read_here connection");
    }

    #[tokio::test]
    async fn a_read_cannot_write() {
        let (_dir, store) = open();
        let tried = store.read(|c| Ok(c.execute(INSERT, ["x"])?)).await;
        assert!(matches!(tried, Err(StoreError::Sqlite(_))), "{tried:?}");
        assert_eq!(count(&store).await, 0);
    }

    #[tokio::test]
    async fn concurrent_writes_all_commit() {
        let (_dir, store) = open();
        let writes = (0..200).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let write = move |tx: &rusqlite::Transaction<'_>| {
                    tx.execute(INSERT, [format!("e{i}")])?;
                    Ok::<_, StoreError>(())
                };
                if i % 2 == 0 {
                    store.write(write).await
                } else {
                    store.write_relaxed(write).await
                }
            })
        });
        for w in futures_util::future::join_all(writes).await {
            w.unwrap().unwrap();
        }
        assert_eq!(count(&store).await, 200);
    }

    #[tokio::test]
    async fn durable_writes_sync_the_log_and_relaxed_ones_do_not() {
        let (_dir, store) = open();
        let mode = |tx: &rusqlite::Transaction<'_>| {
            Ok::<i64, StoreError>(tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
        };
        // 1 = NORMAL: no commit waits for the disk inside SQLite...
        let before = store.wal_syncs();
        assert_eq!(store.write_relaxed(mode).await.unwrap(), 1);
        assert_eq!(store.wal_syncs(), before);
        // ...a durable write syncs the log itself before it returns.
        assert_eq!(store.write(mode).await.unwrap(), 1);
        assert_eq!(store.wal_syncs(), before + 1);
        assert_eq!(store.write_unseen(mode).await.unwrap(), 1);
        assert_eq!(store.wal_syncs(), before + 2);
        // A write that fails commits nothing and syncs nothing.
        let failed = store
            .write(|tx| -> Result<(), StoreError> {
                tx.execute(INSERT, ["x"])?;
                Err(StoreError::Corrupt("refused".into()))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(store.wal_syncs(), before + 2);
        assert_eq!(count(&store).await, 0);
    }

    #[tokio::test]
    async fn this_threads_readers_see_every_commit_at_once_mapped_or_not() {
        let (_dir, store) = open();
        for i in 1..=3 {
            store
                .write(move |tx| {
                    Ok::<_, StoreError>(tx.execute(INSERT, [format!("e{i}")]).map(drop)?)
                })
                .await
                .unwrap();
            for pages in [Pages::Mapped, Pages::Fresh] {
                let seen: i64 = store
                    .read_here(pages, |c| {
                        Ok(
                            c.query_row("SELECT count(*) FROM selfservice_errors", [], |r| {
                                r.get(0)
                            })?,
                        )
                    })
                    .unwrap();
                assert_eq!(seen, i, "{pages:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_write_that_panics_is_rolled_back_and_the_writer_lives_on() {
        let (_dir, store) = open();
        #[allow(clippy::panic)]
        let failed = store
            .write(|tx| -> Result<(), StoreError> {
                tx.execute(INSERT, ["lost"])?;
                panic!("boom")
            })
            .await;
        assert!(failed.is_err());
        store
            .write(|tx| Ok::<_, StoreError>(tx.execute(INSERT, ["kept"]).map(drop)?))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .read(|c| {
                let mut s = c.prepare("SELECT id FROM selfservice_errors")?;
                let ids = s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(ids)
            })
            .await
            .unwrap();
        assert_eq!(ids, vec!["kept".to_owned()]);
    }
}
