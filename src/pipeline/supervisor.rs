//! The supervisor: owns every task and thread of a run (the reader thread,
//! the sink tasks, the telemetry listener, the progress display, and the
//! sinks' background work started through its [`Spawner`]: the HEC
//! acknowledgement poller, the file writer thread) and turns the first panic
//! or unexpected end into `RunError::Internal` (exit 70) with its message. Its
//! task sets are drop guards: dropping the supervisor stops every task;
//! [`Supervisor::shutdown`] stops them and joins the threads.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};
use tracing::{error, info};

use super::RunError;
use crate::background::{Background, Fault, Spawner};

/// What a task is for, which says whether its end is expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Runs for the whole run (the telemetry listener): any end is a failure.
    Service,
    /// Ends by itself once its input closes (a sink task): whether that end
    /// came at the right time is for its owner to say.
    Worker,
}

/// A task that ended when it should not have.
#[derive(Debug)]
pub(crate) struct Failure {
    /// What the task is, as the messages name it ("a sink task").
    pub name: String,
    pub end: End,
}

/// How a task ended badly.
#[derive(Debug)]
pub(crate) enum End {
    /// With the panic's message.
    Panicked(String),
    /// Aborted by someone else than the supervisor.
    Cancelled,
    /// A service returned.
    Returned,
}

impl Failure {
    /// "the telemetry listener panicked", without the panic's message.
    pub(crate) fn summary(&self) -> String {
        let how = match self.end {
            End::Panicked(_) => "panicked",
            End::Cancelled => "was cancelled",
            End::Returned => "ended unexpectedly",
        };
        format!("{} {how}", self.name)
    }
}

impl From<Failure> for RunError {
    fn from(failure: Failure) -> RunError {
        RunError::Internal(match &failure.end {
            End::Panicked(message) => format!("{}: {message}", failure.summary()),
            _ => failure.summary(),
        })
    }
}

/// The tasks and threads of one run.
#[derive(Default)]
pub(crate) struct Supervisor {
    tasks: JoinSet<()>,
    roles: HashMap<Id, (String, Role)>,
    threads: Vec<(String, std::thread::JoinHandle<()>)>,
    /// The sinks' background tasks and threads.
    background: Background,
}

impl From<(String, Fault)> for Failure {
    fn from((name, fault): (String, Fault)) -> Failure {
        let end = match fault {
            Fault::Panicked(message) => End::Panicked(message),
            Fault::Returned => End::Returned,
            Fault::Cancelled => End::Cancelled,
        };
        Failure { name, end }
    }
}

impl Supervisor {
    /// The handle the run's sinks are built with: what they start through it
    /// is supervised as the rest (a panic, or an end while the sink still
    /// holds it, fails the run).
    pub(crate) fn spawner(&self) -> Spawner {
        self.background.spawner()
    }

    /// Starts `task` on the runtime, named `name` in the messages.
    pub(crate) fn spawn(
        &mut self,
        name: &str,
        role: Role,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let id = self.tasks.spawn(task).id();
        self.roles.insert(id, (name.to_owned(), role));
    }

    /// Starts `job` on a thread of its own (blocking work: the reader). Its
    /// end is seen at [`Supervisor::shutdown`]; what it does before that, it
    /// reports through its own channel, in stream order.
    pub(crate) fn thread(
        &mut self,
        name: &str,
        job: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(job)?;
        self.threads.push((name.to_owned(), handle));
        Ok(())
    }

    /// Workers still running.
    pub(crate) fn workers(&self) -> usize {
        self.roles
            .values()
            .filter(|(_, role)| *role == Role::Worker)
            .count()
    }

    /// The next task to end: a worker's own end is `Ok` with its name; a
    /// panic, a cancellation, a service's end or a background job's fault is
    /// a [`Failure`]. Waits forever while nothing runs. Cancel-safe.
    pub(crate) async fn next_end(&mut self) -> Result<String, Failure> {
        tokio::select! {
            Some(joined) = self.tasks.join_next_with_id() => self.judge(joined),
            fault = self.background.next_fault() => {
                let failure = Failure::from(fault);
                if let End::Panicked(message) = &failure.end {
                    error!(panic = %message, "{} panicked", failure.name);
                }
                Err(failure)
            }
        }
    }

    fn judge(&mut self, joined: Result<(Id, ()), JoinError>) -> Result<String, Failure> {
        let id = match &joined {
            Ok((id, ())) => *id,
            Err(error) => error.id(),
        };
        let (name, role) = self
            .roles
            .remove(&id)
            .unwrap_or_else(|| ("a task".to_owned(), Role::Service));
        let end = match joined {
            Ok(_) if role == Role::Worker => return Ok(name),
            Ok(_) => End::Returned,
            Err(error) if error.is_panic() => {
                let message = crate::source::panic_message(&*error.into_panic());
                error!(panic = %message, "{name} panicked");
                End::Panicked(message)
            }
            Err(_) => End::Cancelled,
        };
        Err(Failure { name, end })
    }

    /// Stops every task (the sinks with them), then waits up to `limit` for
    /// the sinks' background jobs and the threads to end (a thread inside a
    /// blocking call that outlasts it is left behind: the process exits
    /// around it). A task or thread that had panicked unseen is reported.
    pub(crate) async fn shutdown(&mut self, limit: Duration) -> Result<(), RunError> {
        let deadline = tokio::time::Instant::now() + limit;
        self.tasks.abort_all();
        let mut first = Ok(());
        while let Some(joined) = self.tasks.join_next_with_id().await {
            // Aborted or ended: expected now. A panic is not.
            if let Err(
                failure @ Failure {
                    end: End::Panicked(_),
                    ..
                },
            ) = self.judge(joined)
            {
                first = first.and(Err(failure.into()));
            }
        }
        for (name, message) in self.background.stop(deadline).await {
            error!(panic = %message, "{name} panicked");
            first = first.and(Err(Failure {
                name,
                end: End::Panicked(message),
            }
            .into()));
        }
        let threads = std::mem::take(&mut self.threads);
        if threads.is_empty() {
            return first;
        }
        let names: Vec<String> = threads.iter().map(|(name, _)| name.clone()).collect();
        // Joined on a blocking thread: a join is a blocking call.
        let joined = tokio::task::spawn_blocking(move || {
            threads
                .into_iter()
                .filter_map(|(name, handle)| {
                    let payload = handle.join().err()?;
                    Some((name, crate::source::panic_message(&*payload)))
                })
                .collect::<Vec<_>>()
        });
        match tokio::time::timeout_at(deadline, joined).await {
            Ok(Ok(panicked)) => {
                if let Some((name, message)) = panicked.into_iter().next() {
                    error!(panic = %message, "{name} panicked");
                    first = first.and(Err(Failure {
                        name,
                        end: End::Panicked(message),
                    }
                    .into()));
                }
            }
            Ok(Err(error)) => {
                first = first.and(Err(RunError::Internal(format!(
                    "joining the threads failed: {error}"
                ))));
            }
            Err(_) => {
                info!(threads = %names.join(", "), "a thread is still inside a blocking call; leaving it behind");
            }
        }
        first
    }
}

#[cfg(test)]
mod tests;
