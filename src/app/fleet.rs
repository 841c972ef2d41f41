//! Several systems in one daemon: one whole pipeline per `[[sources]]` entry,
//! driven together, with one telemetry listener under the fleet's supervisor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::watch;
use tracing::{error, info};

use super::{run_pipeline, start_listener, Shared};
use crate::pipeline::memory::{FleetBudget, FleetPlan};
use crate::pipeline::supervisor::Supervisor;
use crate::pipeline::systems::SystemRegistry;
use crate::pipeline::{Outcome, RunError, RunOptions};
use crate::plan::RunPlan;
use crate::settings::OnSourceFailure;
use crate::sink::Clients;
use crate::telemetry::Metrics;

type Finished = (String, Result<Outcome, RunError>);
type SystemRun = Pin<Box<dyn Future<Output = Finished> + Send>>;
/// Each system's name and metrics, as the listener shows them.
type Systems = Vec<(String, Arc<Metrics>)>;

/// Several systems, each with its own reader thread, connection, checkpoint
/// (`state.dir/<name>`), sinks and sink tasks: one slow or unreachable
/// system never blocks another. One telemetry listener shows them all, each
/// labelled `source="<name>"`. A system that fails for good stops alone (the
/// others go on; the exit code says so at the end), except for two sources on
/// one SYSTEM_NAME, which stops every one.
pub async fn run_fleet(
    plan: RunPlan,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    found: Arc<Vec<crate::checkpoint::FoundStore>>,
) -> Result<Outcome, RunError> {
    let (stop, stopped) = watch::channel(false);
    let fleet_config = plan.config.fleet.clone();
    let listen = plan.listen;
    let max_age = plan.config.telemetry.health_max_checkpoint_age;
    let (systems, runs) = start_systems(plan, options, &found, &stopped);
    info!(systems = %systems.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", "), "reading several systems");
    let mut supervisor = Supervisor::default();
    let metrics = Arc::new(crate::telemetry::FleetMetrics {
        systems: systems.clone(),
    });
    start_listener(
        listen,
        max_age,
        metrics,
        ", every system labelled",
        &mut supervisor,
    )
    .await?;
    let mut fleet = Fleet {
        runs,
        systems,
        stop,
        stopping: false,
        first_error: None,
        undelivered: 0,
        grace_expired: false,
        on_source_failure: fleet_config.on_source_failure,
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let mut reminder = tokio::time::interval(fleet_config.failure_reminder);
    reminder.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    reminder.reset();
    while fleet.runs.iter().any(Option::is_some) {
        tokio::select! {
            () = &mut shutdown, if !fleet.stopping => fleet.stop_all(),
            // The shared listener is supervised as a single pipeline's is:
            // its end fails the fleet (exit 70) after every system drains.
            Err(failure) = supervisor.next_end(), if !fleet.stopping => {
                error!("{}; stopping every system", failure.summary());
                fleet.first_error = Some(failure.into());
                fleet.stop_all();
            }
            _ = reminder.tick(), if !fleet.stopping => fleet.remind(),
            (name, result) = next_finished(&mut fleet.runs) => fleet.finished(name, result),
        }
    }
    let stopped = supervisor.shutdown(std::time::Duration::ZERO).await;
    fleet.outcome(stopped)
}

/// Every system's pipeline, not yet started, and its metrics by name.
fn start_systems(
    plan: RunPlan,
    options: RunOptions,
    found: &Arc<Vec<crate::checkpoint::FoundStore>>,
    stopped: &watch::Receiver<bool>,
) -> (Systems, Vec<Option<SystemRun>>) {
    let registry = Arc::new(SystemRegistry::default());
    let clients = Arc::new(Clients::new(plan.systems.len()));
    let mut systems = Vec::new();
    let mut runs: Vec<Option<SystemRun>> = Vec::new();
    let in_memory = plan.config.pipeline.batches_in_memory();
    let reserved = plan
        .systems
        .iter()
        .map(|system| system.source.config.batch_rows)
        .sum();
    let budget_plan = FleetPlan::new(
        plan.config.fleet.rows_in_memory(reserved),
        &plan
            .systems
            .iter()
            .map(|system| (system.source.config.batch_rows, in_memory))
            .collect::<Vec<_>>(),
    );
    let budget = Arc::new(FleetBudget::new(budget_plan.pool));
    for (mut system, share) in plan.systems.into_iter().zip(budget_plan.systems) {
        let name = system.name.clone();
        // The reader is built from the source's plan, the one copy that counts.
        system.source.config.odbc.window_entries = share.window_entries;
        let sink_names: Vec<String> = system.sinks.iter().map(|sink| sink.name.clone()).collect();
        let metrics = Arc::new(Metrics::new(&sink_names));
        systems.push((name.clone(), metrics.clone()));
        let mut stopped = stopped.clone();
        let shared = Shared {
            metrics: Some(metrics),
            systems: Some(registry.clone()),
            found: Some(found.clone()),
            clients: clients.clone(),
            memory: Some((budget.clone(), share.cap)),
        };
        runs.push(Some(Box::pin(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            // Each system's own listener is none: the fleet's shows them all.
            let result = run_pipeline(system, None, options, shutdown, None, shared).await;
            (name, result)
        })));
    }
    (systems, runs)
}

/// The next system to finish (each run is polled in place, in this task).
async fn next_finished(runs: &mut [Option<SystemRun>]) -> Finished {
    std::future::poll_fn(|cx| {
        for slot in runs.iter_mut() {
            if let Some(run) = slot {
                if let Poll::Ready(done) = run.as_mut().poll(cx) {
                    *slot = None;
                    return Poll::Ready(done);
                }
            }
        }
        Poll::Pending
    })
    .await
}

/// What the fleet knows while its systems run.
struct Fleet {
    runs: Vec<Option<SystemRun>>,
    systems: Systems,
    stop: watch::Sender<bool>,
    stopping: bool,
    first_error: Option<RunError>,
    undelivered: usize,
    grace_expired: bool,
    on_source_failure: OnSourceFailure,
}

impl Fleet {
    fn stop_all(&mut self) {
        self.stopping = true;
        let _ = self.stop.send(true);
    }

    fn remind(&self) {
        for (name, metrics) in &self.systems {
            if let Some((code, why)) = metrics.stopped() {
                error!(source = %name, exit_code = code, "system still stopped, its entries are not being read (the other systems go on; [fleet] on_source_failure = \"continue\"): {why}");
            }
        }
    }

    fn finished(&mut self, name: String, result: Result<Outcome, RunError>) {
        let error = match result {
            Ok(Outcome::Drained) => return info!(source = %name, "system done"),
            Ok(Outcome::GraceExpired {
                undelivered_batches,
            }) => {
                self.grace_expired = true;
                self.undelivered += undelivered_batches;
                return;
            }
            Err(error) => error,
        };
        error!(source = %name, exit_code = error.exit_code(), "system stopped: {error}");
        if let Some((_, metrics)) = self.systems.iter().find(|(known, _)| *known == name) {
            metrics.record_stopped(error.exit_code(), &error.to_string());
        }
        let duplicate = matches!(error, RunError::DuplicateSystem(_));
        if (duplicate || self.on_source_failure == OnSourceFailure::Exit) && !self.stopping {
            if !duplicate {
                error!(source = %name, "stopping every system: [fleet] on_source_failure = \"exit\"");
            }
            self.stop_all();
        }
        if self
            .first_error
            .as_ref()
            .is_none_or(|known| known.exit_code() == crate::exit_code::OK)
        {
            self.first_error = Some(error);
        }
    }

    /// The fleet's result: the first failure, else whether the grace ran out.
    fn outcome(self, stopped: Result<(), RunError>) -> Result<Outcome, RunError> {
        match self.first_error {
            Some(error) => Err(error),
            None if self.grace_expired => stopped.map(|()| Outcome::GraceExpired {
                undelivered_batches: self.undelivered,
            }),
            None => stopped.map(|()| Outcome::Drained),
        }
    }
}
