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
                        Ok(job) => job(),
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
    pub async fn run_within<T: Send + 'static>(
        &self,
        wait: std::time::Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Option<T>> {
        let queued = std::time::Instant::now();
        self.run(move || (queued.elapsed() <= wait).then(f)).await
    }
}
