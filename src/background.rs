//! A sink's background work (the Splunk HEC acknowledgement poller, the file
//! sink's writer thread), started under the run's supervisor. A sink is built
//! with a [`Spawner`]; through it the sink starts a task or a thread, and keeps
//! only the [`Tether`] and its own channels. The supervisor's side,
//! [`Background`], sees every end: a panic, or an end while the sink still
//! holds the tether, is a [`Fault`] that fails the run (exit 70, in
//! `pipeline::supervisor`); an end after the sink let go is expected.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::sync::Notify;
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;

/// Starts a sink's background tasks and threads under the supervisor that
/// made it. It holds the supervisor weakly: a sink never keeps it alive.
#[derive(Clone)]
pub struct Spawner {
    jobs: Weak<Jobs>,
}

/// Held by a sink for as long as its background job must run. Dropping it
/// stops a task, and makes a thread's end (once its input closes) expected.
/// A sink drops it before the channel its thread reads.
#[derive(Debug)]
pub struct Tether {
    _held: oneshot::Sender<()>,
}

/// How a background job ended badly.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// With the panic's message.
    Panicked(String),
    /// It ended while its sink still held the tether.
    Returned,
    /// Aborted by someone else than the supervisor.
    Cancelled,
}

/// The supervisor's side: every background job of one run. Dropping it
/// aborts the tasks (a thread ends when its sink closes its input).
#[derive(Default)]
pub struct Background {
    jobs: Arc<Jobs>,
}

#[derive(Default)]
struct Jobs {
    state: Mutex<State>,
    /// Woken when a job is added, so a wait on an empty set sees it.
    added: Notify,
}

#[derive(Default)]
struct State {
    tasks: JoinSet<Exit>,
    names: HashMap<Id, String>,
    threads: Vec<Thread>,
}

/// A background thread: joined at the end; its outcome is taken once, by its
/// watcher task or, if that was stopped first, at the join.
struct Thread {
    name: String,
    handle: std::thread::JoinHandle<()>,
    outcome: Outcome,
}

type Outcome = Arc<Mutex<Option<Result<(), String>>>>;

/// How a job's task ended by itself.
enum Exit {
    /// Its sink let go of the tether: expected.
    Released,
    /// It returned while the tether was held.
    Returned,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn stopped() -> std::io::Error {
    std::io::Error::other("the run's supervisor has stopped")
}

/// True once the sink dropped the tether whose other end this is.
fn released(tether: &mut oneshot::Receiver<()>) -> bool {
    matches!(tether.try_recv(), Err(TryRecvError::Closed))
}

impl Spawner {
    /// Starts `job` as a task named `name` in the messages ("splunk_hec
    /// https://…: the indexer-acknowledgement poller"). It runs until it
    /// ends, or until the returned tether is dropped.
    pub fn spawn(
        &self,
        name: String,
        job: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Tether> {
        let jobs = self.jobs.upgrade().ok_or_else(stopped)?;
        let (held, mut tether) = oneshot::channel::<()>();
        let guarded = async move {
            tokio::select! {
                biased;
                _ = &mut tether => Exit::Released,
                () = job => match released(&mut tether) {
                    true => Exit::Released,
                    false => Exit::Returned,
                },
            }
        };
        jobs.add(name, guarded);
        Ok(Tether { _held: held })
    }

    /// Starts `job` on a thread of its own, named `thread` (the OS name) and
    /// `name` in the messages. It should end once its input closes, after the
    /// sink dropped the returned tether.
    pub fn thread(
        &self,
        name: String,
        thread: &str,
        job: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Tether> {
        let jobs = self.jobs.upgrade().ok_or_else(stopped)?;
        let outcome: Outcome = Arc::default();
        let (ended, ended_signal) = oneshot::channel::<()>();
        let written = outcome.clone();
        let handle = std::thread::Builder::new()
            .name(thread.to_owned())
            .spawn(move || {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                    .map_err(|payload| crate::source::panic_message(&*payload));
                *lock(&written) = Some(ran);
                let _ = ended.send(());
            })?;
        let (held, mut tether) = oneshot::channel::<()>();
        let watched = outcome.clone();
        let watcher = async move {
            // A dropped signal is an ended thread too.
            let _ = ended_signal.await;
            let ran = lock(&watched).take();
            if let Some(Err(message)) = ran {
                // Re-raised here (no second panic message on stderr), so the
                // supervisor judges it as this task's panic.
                std::panic::resume_unwind(Box::new(message));
            }
            match released(&mut tether) {
                true => Exit::Released,
                false => Exit::Returned,
            }
        };
        lock(&jobs.state).threads.push(Thread {
            name: name.clone(),
            handle,
            outcome,
        });
        jobs.add(name, watcher);
        Ok(Tether { _held: held })
    }
}

impl Jobs {
    fn add(&self, name: String, task: impl Future<Output = Exit> + Send + 'static) {
        {
            let mut state = lock(&self.state);
            let id = state.tasks.spawn(task).id();
            state.names.insert(id, name);
        }
        self.added.notify_one();
    }

    /// The next task to end, or `None` when there is none right now.
    async fn next_joined(&self) -> Option<Result<(Id, Exit), JoinError>> {
        std::future::poll_fn(|context| lock(&self.state).tasks.poll_join_next_with_id(context))
            .await
    }

    /// The job's name and its fault, if its end was one.
    fn judge(&self, joined: Result<(Id, Exit), JoinError>) -> Option<(String, Fault)> {
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(error) => error.id(),
        };
        let name = lock(&self.state)
            .names
            .remove(&id)
            .unwrap_or_else(|| "a background job".to_owned());
        let fault = match joined {
            Ok((_, Exit::Released)) => return None,
            Ok((_, Exit::Returned)) => Fault::Returned,
            Err(error) if error.is_panic() => {
                Fault::Panicked(crate::source::panic_message(&*error.into_panic()))
            }
            Err(_) => Fault::Cancelled,
        };
        Some((name, fault))
    }
}

impl Background {
    /// The handle sinks are built with.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            jobs: Arc::downgrade(&self.jobs),
        }
    }

    /// The next job whose end is a fault; waits for ever while none is.
    /// Cancel-safe.
    pub(crate) async fn next_fault(&self) -> (String, Fault) {
        loop {
            let added = self.jobs.added.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            let joined = async {
                match self.jobs.next_joined().await {
                    Some(joined) => joined,
                    // Empty: wait for `added`.
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                joined = joined => {
                    if let Some(fault) = self.jobs.judge(joined) {
                        return fault;
                    }
                }
                () = &mut added => {}
            }
        }
    }

    /// At the end of the run, once the sinks are gone: waits until
    /// `deadline` for the jobs to end (a thread may be finishing a write),
    /// stops the rest, and joins the threads that ended. Returns the panics
    /// (a thread still inside a blocking call is left behind).
    pub(crate) async fn stop(&self, deadline: Instant) -> Vec<(String, String)> {
        let mut panics = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.jobs.next_joined()).await {
                Ok(Some(joined)) => {
                    if let Some((name, Fault::Panicked(message))) = self.jobs.judge(joined) {
                        panics.push((name, message));
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    lock(&self.jobs.state).tasks.abort_all();
                    break;
                }
            }
        }
        let threads = std::mem::take(&mut lock(&self.jobs.state).threads);
        for thread in threads {
            if !thread.handle.is_finished() {
                tracing::info!(thread = %thread.name, "a sink's thread is still inside a blocking call; leaving it behind");
                continue;
            }
            // Ended: the join does not block. Its panic was caught and kept.
            let _ = thread.handle.join();
            if let Some(Err(message)) = lock(&thread.outcome).take() {
                panics.push((thread.name, message));
            }
        }
        panics
    }
}

#[cfg(test)]
mod tests;
