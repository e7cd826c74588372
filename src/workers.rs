//! Small, fixed sets of threads for blocking work: one for password hashing
//! (`--hash-concurrency` threads), one for database work (`--db-pool-size`
//! threads). Tokio's shared blocking pool grows to hundreds of threads under a
//! burst, and the allocator keeps what each thread freed for that thread, so
//! resident memory grew with the burst (a hash alone needs 19 MiB). With fixed
//! pools memory is bounded by the pool sizes, whatever the load; excess work
//! queues, and work that queued too long is refused (the caller answers 503).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Workers {
    sender: mpsc::Sender<Job>,
}

impl Workers {
    pub fn new(name: &str, threads: usize) -> std::io::Result<Workers> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("postern-{name}-{i}"))
                .spawn(move || loop {
                    let job = {
                        let guard = receiver
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        guard.recv()
                    };
                    match job {
                        // A panicking job fails its own request (its result
                        // channel is dropped) but must not take a thread
                        // out of the pool for good.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        // Every sender is gone: the server is shutting down.
                        Err(_) => break,
                    }
                })?;
        }
        Ok(Workers { sender })
    }

    /// Runs `f` on one of the threads; `None` if the pool is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.sender
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }

    /// Like `run`, but gives up (`Some(None)`) when the work could not start
    /// within `wait`: a saturated pool answers quickly instead of piling up.
    /// Work that has started always runs to the end (a write is never cut off).
    pub async fn run_within<T: Send + 'static>(
        &self,
        wait: std::time::Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Option<T>> {
        use std::sync::atomic::{AtomicBool, Ordering};
        // Whoever flips this first wins: the worker (it starts the work) or
        // the caller (it gave up, so the worker must skip the work).
        let claimed = Arc::new(AtomicBool::new(false));
        let worker_claim = claimed.clone();
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.sender
            .send(Box::new(move || {
                if !worker_claim.swap(true, Ordering::AcqRel) {
                    let _ = tx.send(f());
                }
            }))
            .ok()?;
        match tokio::time::timeout(wait, &mut rx).await {
            Ok(done) => done.ok().map(Some),
            Err(_) if !claimed.swap(true, Ordering::AcqRel) => Some(None),
            // It started just in time: wait for it to finish.
            Err(_) => rx.await.ok().map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Workers;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn work_that_cannot_start_in_time_is_refused_and_never_runs() {
        let workers = Workers::new("test", 1).unwrap();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = {
            let workers = workers.clone();
            tokio::spawn(async move {
                workers
                    .run(move || {
                        let _ = started_tx.send(());
                        let _ = release_rx.recv();
                    })
                    .await
            })
        };
        started_rx.await.unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let refused = workers
            .run_within(Duration::from_millis(20), move || {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .await;
        assert_eq!(refused, Some(None));
        release_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // The pool is free again: new work runs, and the refused work never did.
        let counter = ran.clone();
        let done = workers
            .run_within(Duration::from_secs(5), move || {
                counter.fetch_add(1, Ordering::SeqCst)
            })
            .await;
        assert_eq!(done, Some(Some(0)));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_thread_lives_on() {
        let workers = Workers::new("test", 1).unwrap();
        #[allow(clippy::panic)]
        let failed = workers.run(|| -> u8 { panic!("boom") }).await;
        assert_eq!(failed, None);
        assert_eq!(workers.run(|| 7).await, Some(7));
    }
}
