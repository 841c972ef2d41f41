//! The app: wires one run together from the run plan (checkpoint store,
//! telemetry listener, sinks and their start-up checks, the reader thread, the
//! sink tasks), each step a function, under one supervisor, and hands it to
//! the dispatcher. A fleet (`app/fleet.rs`) runs one such pipeline per system.
//! Everything here happens once, and builds from ready values: no file the
//! configuration names is read here, and no configured text parsed.

mod fleet;
pub use fleet::run_fleet;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::checkpoint::CheckpointStore;
use crate::enrich::{Enricher, Filter};
use crate::pipeline::dead_letter::DeadLetter;
use crate::pipeline::dispatcher::Dispatcher;
use crate::pipeline::ledger::Ledger;
use crate::pipeline::memory::{Admitted, Bounds, FleetBudget, Permits};
use crate::pipeline::sink_task::{Report, SinkTask};
use crate::pipeline::supervisor::{Role, Supervisor};
pub use crate::pipeline::{Outcome, RunError, RunOptions};
use crate::plan::{RunPlan, SinkPlan, SystemPlan};
use crate::settings::Config;
use crate::sink::{Clients, ErrorKind, Sink, Spawner};
use crate::source::{self, ReaderHeartbeat, Source, SourceMessage};
use crate::telemetry::notify::Notifier;
use crate::telemetry::{http, Metrics};

/// Runs the daemon until the source is exhausted (with `exit_when_caught_up`),
/// `shutdown` completes, or something fails for good.
pub async fn run(
    plan: RunPlan,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, RunError> {
    let found = Arc::new(report_checkpoints(&plan.config));
    if plan.is_fleet() {
        return run_fleet(plan, options, shutdown, found).await;
    }
    let shared = Shared {
        found: Some(found),
        ..Shared::default()
    };
    let listen = plan.listen;
    let system = the_system(plan)?;
    run_pipeline(system, listen, options, shutdown, None, shared).await
}

/// The one system of a plan that is not a fleet's.
fn the_system(plan: RunPlan) -> Result<SystemPlan, RunError> {
    let count = plan.systems.len();
    let mut systems = plan.systems.into_iter();
    match (systems.next(), count) {
        (Some(system), 1) => Ok(system),
        _ => Err(RunError::Internal(format!(
            "a plan of one system holds {count}"
        ))),
    }
}

/// Every checkpoint under the state directory; warns about each that no
/// configured source uses (a renamed or removed source, `[source]` moved to
/// `[[sources]]`), at every start.
fn report_checkpoints(config: &Config) -> Vec<crate::checkpoint::FoundStore> {
    let root = &config.state.dir;
    let found = crate::checkpoint::inventory(root);
    let claimed: Vec<std::path::PathBuf> = if config.sources.is_empty() {
        vec![root.clone()]
    } else {
        config
            .sources
            .iter()
            .map(|source| root.join(source.name.trim()))
            .collect()
    };
    for store in found.iter().filter(|store| !claimed.contains(&store.dir)) {
        warn!(
            checkpoint = %store.describe(root),
            "a checkpoint in the state directory belongs to no configured source: if a source was renamed or moved, `auditfwd checkpoint move --from {} --to <its name>` (or `.` for a single [source]) gives it its position; if that system is retired, delete the directory",
            store.name(root)
        );
    }
    found
}

pub use crate::pipeline::systems::SystemRegistry;

/// What one system's pipeline shares with the rest of a fleet.
#[derive(Clone, Default)]
struct Shared {
    /// Its metrics, already registered with the fleet's listener.
    metrics: Option<Arc<Metrics>>,
    systems: Option<Arc<SystemRegistry>>,
    /// Every checkpoint under the state directory (the daemon only, not a
    /// backfill): a source without a checkpoint refuses to start over on a
    /// system one of them follows.
    found: Option<Arc<Vec<crate::checkpoint::FoundStore>>>,
    /// The sinks' heavy clients (a Kafka producer, an HTTP client), one per
    /// distinct client configuration for the whole fleet.
    clients: Arc<Clients>,
    /// In a fleet: the memory budget's shared pool and this system's cap
    /// (batches); alone, `pipeline.max_batches_in_memory` is the bound.
    memory: Option<(Arc<FleetBudget>, usize)>,
}

/// Something called with the run's metrics every couple of seconds and once
/// at the end (a backfill's progress display).
pub type Observer = std::sync::Arc<dyn Fn(&Metrics) + Send + Sync>;

/// [`run`], calling `observer` with the metrics while it runs.
pub async fn run_observed(
    plan: RunPlan,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    observer: Option<Observer>,
) -> Result<Outcome, RunError> {
    let listen = plan.listen;
    let system = the_system(plan)?;
    run_pipeline(
        system,
        listen,
        options,
        shutdown,
        observer,
        Shared::default(),
    )
    .await
}

/// One system's run, in its steps: open the state, start the listener, build
/// the sinks, start the reader, start the sink tasks, run the dispatcher, shut
/// down. Every task and thread belongs to one [`Supervisor`].
async fn run_pipeline(
    system: SystemPlan,
    listen: Option<std::net::SocketAddr>,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    observer: Option<Observer>,
    shared: Shared,
) -> Result<Outcome, RunError> {
    let config = &system.config;
    let opened = open_state(&system, options.accept_lost_checkpoint).await?;
    let stats = match shared.metrics.clone() {
        Some(metrics) => metrics,
        None => {
            let names: Vec<String> = system.sinks.iter().map(|sink| sink.name.clone()).collect();
            Arc::new(Metrics::new(&names))
        }
    };
    let mut supervisor = Supervisor::default();
    let max_age = config.telemetry.health_max_checkpoint_age;
    start_listener(listen, max_age, stats.clone(), "", &mut supervisor).await?;
    let spawner = supervisor.spawner();
    let sinks = build_sinks(&system.sinks, &shared.clients, &spawner).await?;
    let reading = start_reader(&system, options, &opened, &stats, &mut supervisor)?;
    let delivering = spawn_sink_tasks(config, sinks, &system.sinks, &stats, &mut supervisor);
    if let Some(observe) = observer.clone() {
        let stats = stats.clone();
        supervisor.spawn("the progress display", Role::Service, async move {
            let mut every = tokio::time::interval(Duration::from_secs(2));
            loop {
                every.tick().await;
                observe(&stats);
            }
        });
    }
    let parts = (opened, reading, delivering);
    let mut dispatcher = dispatcher(&system, &shared, parts, stats, supervisor);
    let result = dispatcher.run(shutdown).await;
    if let Some(observe) = &observer {
        observe(&dispatcher.stats);
    }
    shut_down(dispatcher, result).await
}

/// What the state directory holds at the start.
struct Opened {
    store: Arc<CheckpointStore>,
    lost_checkpoint: Option<crate::checkpoint::LostCheckpoint>,
    checkpoint: Option<crate::checkpoint::Checkpoint>,
    sessions: Option<crate::enrich::sessions::SessionTracker>,
}

/// Opens the checkpoint store (refusing a lost checkpoint unless accepted)
/// and loads the position and the open sessions.
async fn open_state(system: &SystemPlan, accept_lost: bool) -> Result<Opened, RunError> {
    let config = &system.config;
    let state_dir = config.state.dir.clone();
    let (store, lost_checkpoint) =
        tokio::task::spawn_blocking(move || CheckpointStore::open_checked(&state_dir, accept_lost))
            .await
            .map_err(|error| {
                RunError::Internal(format!("opening the state directory: {error}"))
            })??;
    if let Some(lost) = &lost_checkpoint {
        tracing::error!(state_dir = %lost.dir.display(), "the checkpoint was lost; starting from the source's start point as --accept-lost-checkpoint asks, and sending an audit_gap event");
    }
    let checkpoint = store.load()?;
    let sessions = sessions_tracker(system, &store, checkpoint.as_ref())?;
    match &checkpoint {
        Some(checkpoint) => {
            info!(cursor = %checkpoint.cursor, committed_at = %checkpoint.committed_at, "resuming after the checkpoint");
        }
        None => {
            info!(state_dir = %config.state.dir.display(), "no checkpoint yet: starting from the source's beginning");
        }
    }
    Ok(Opened {
        store: Arc::new(store),
        lost_checkpoint,
        checkpoint,
        sessions,
    })
}

/// Serves `/metrics` and `/health` on `listen` (`telemetry.listen`), as a
/// service of `supervisor`: its end (a panic in it) fails the run with exit
/// 70 instead of going on blind. `labelled` ends the log line.
async fn start_listener<T: crate::telemetry::Telemetry + Send + Sync + 'static>(
    listen: Option<std::net::SocketAddr>,
    max_age: Duration,
    metrics: Arc<T>,
    labelled: &str,
    supervisor: &mut Supervisor,
) -> Result<(), RunError> {
    let Some(address) = listen else {
        return Ok(());
    };
    let listener = http::bind(address).await.map_err(RunError::Telemetry)?;
    if let Ok(bound) = listener.local_addr() {
        info!(address = %bound, "telemetry listening: /metrics and /health{labelled}");
    }
    supervisor.spawn(
        "the telemetry listener",
        Role::Service,
        http::serve(listener, metrics, max_age),
    );
    Ok(())
}

/// Every sink, built (its background work under the supervisor `spawner`
/// belongs to) and checked: a permanent failure of a check stops the start, a
/// transient one only warns (deliveries retry).
async fn build_sinks(
    planned: &[SinkPlan],
    clients: &Clients,
    spawner: &Spawner,
) -> Result<Vec<(String, Sink)>, RunError> {
    let mut sinks = Vec::with_capacity(planned.len());
    for SinkPlan { name, config } in planned {
        let name = name.clone();
        let mut sink =
            Sink::build(config, clients, spawner).map_err(|error| RunError::SinkSetup {
                sink: name.clone(),
                error,
            })?;
        match sink.check().await {
            Ok(()) => info!(sink = %name, "sink ready"),
            Err(error) if error.kind == ErrorKind::Permanent => {
                return Err(RunError::SinkStartup { sink: name, error });
            }
            Err(error) => {
                warn!(sink = %name, %error, "sink not reachable yet; deliveries will retry with backoff");
            }
        }
        sinks.push((name, sink));
    }
    Ok(sinks)
}

/// The reader's side of the dispatcher.
struct Reading {
    source: mpsc::Receiver<SourceMessage>,
    stop: Arc<source::StopSignal>,
    heartbeat: Arc<ReaderHeartbeat>,
    wedge_limit: Duration,
}

/// Opens the source after the checkpoint and starts its reader thread.
fn start_reader(
    system: &SystemPlan,
    options: RunOptions,
    opened: &Opened,
    stats: &Arc<Metrics>,
    supervisor: &mut Supervisor,
) -> Result<Reading, RunError> {
    // Sessions see every JS entry, so the reader must not narrow its query
    // by [filter] (a swap back to QUSER ends a session yet is filtered out);
    // the dispatcher applies the filter after the sessions have seen the row.
    let read_everything = crate::enrich::config::FilterConfig {
        entry_types: Vec::new(),
        include_users: Vec::new(),
        exclude_users: Vec::new(),
    };
    let config = &system.config;
    let source = Source::open(
        &system.source,
        if opened.sessions.is_some() {
            &read_everything
        } else {
            &config.filter
        },
        opened.checkpoint.as_ref().map(|c| &c.cursor),
    )?;
    let wedge_limit = source.wedge_limit(&config.source);
    let (sender, receiver) = mpsc::channel::<SourceMessage>(1);
    let stop = Arc::new(source::StopSignal::default());
    let heartbeat = Arc::new(ReaderHeartbeat::new());
    let (name, job) = source::reader(
        source,
        &config.source,
        sender,
        stop.clone(),
        source::ReaderOptions {
            exit_when_caught_up: options.exit_when_caught_up,
            end_at: options.end_at,
            privileged_refresh: config
                .alerts
                .privileged_from_system
                .then_some(config.alerts.privileged_refresh),
        },
        stats.clone(),
        heartbeat.clone(),
    );
    supervisor
        .thread(&name, job)
        .map_err(|error| RunError::Internal(format!("cannot start the source thread: {error}")))?;
    Ok(Reading {
        source: receiver,
        stop,
        heartbeat,
        wedge_limit,
    })
}

/// The sink tasks' side of the dispatcher.
struct Delivering {
    senders: Vec<mpsc::Sender<Arc<Admitted>>>,
    reports: mpsc::Receiver<Report>,
}

/// One task per sink, each a worker of `supervisor`.
fn spawn_sink_tasks(
    config: &Config,
    sinks: Vec<(String, Sink)>,
    planned: &[SinkPlan],
    stats: &Arc<Metrics>,
    supervisor: &mut Supervisor,
) -> Delivering {
    let in_flight = config.pipeline.max_batches_in_flight;
    let (report_sender, reports) = mpsc::channel::<Report>(in_flight * sinks.len() + 1);
    let dead_letter = Arc::new(DeadLetter::new(&config.pipeline.dead_letter_path));
    let mut senders = Vec::new();
    for (index, ((name, sink), planned)) in sinks.into_iter().zip(planned).enumerate() {
        let (sender, receiver) = mpsc::channel::<Arc<Admitted>>(in_flight);
        senders.push(sender);
        let task = SinkTask {
            index,
            name,
            sink,
            max_in_flight: planned.config.max_in_flight().clamp(1, in_flight),
            pipeline: config.pipeline.clone(),
            dead_letter: dead_letter.clone(),
            stats: stats.clone(),
            reports: report_sender.clone(),
        };
        supervisor.spawn("a sink task", Role::Worker, task.run(receiver));
    }
    Delivering { senders, reports }
}

/// The dispatcher of one run, from its parts.
fn dispatcher(
    system: &SystemPlan,
    shared: &Shared,
    (opened, reading, delivering): (Opened, Reading, Delivering),
    stats: Arc<Metrics>,
    supervisor: Supervisor,
) -> Dispatcher {
    let config = &system.config;
    let Opened {
        store,
        lost_checkpoint,
        checkpoint,
        sessions,
    } = opened;
    let batch_rows = config.source.batch_rows;
    let bounds = |batches| Bounds {
        batches,
        events: config.pipeline.events_in_memory(batch_rows),
        batch_rows,
    };
    let permits = match &shared.memory {
        Some((budget, cap)) => Permits::in_fleet(bounds(*cap), budget, stats.clone()),
        None => Permits::alone(bounds(config.pipeline.batches_in_memory()), stats.clone()),
    };
    Dispatcher {
        store,
        stats,
        notifier: Notifier::from_environment(),
        ledger: Ledger::new(delivering.senders.len()),
        permits,
        lost_checkpoint,
        source: reading.source,
        stop_reader: reading.stop,
        heartbeat: reading.heartbeat,
        wedge_limit: reading.wedge_limit,
        sink_senders: delivering.senders,
        reports: delivering.reports,
        supervisor,
        enricher: Enricher::new(&config.alerts)
            .with_schema(config.event.schema_version)
            .with_source_name(&config.source.name),
        systems: shared
            .systems
            .clone()
            .map(|registry| (registry, config.source.name.trim().to_owned())),
        elsewhere: elsewhere(config, shared, checkpoint.as_ref()),
        filter: Filter::new(&config.filter),
        burst: (config.alerts.signon_failure_burst.enabled
            && system.source.types.iter().any(|spec| spec.code == "PW"))
        .then(|| {
            crate::enrich::burst::BurstDetector::new(
                &config.alerts.signon_failure_burst,
                checkpoint.as_ref().and_then(|c| c.cursor.signals.as_ref()),
            )
        }),
        sessions,
        max_in_flight: config.pipeline.max_batches_in_flight,
        grace: config.pipeline.shutdown_grace,
        summary_interval: config.telemetry.summary_interval,
    }
}

/// For a source without a checkpoint, under a daemon: the other checkpoints
/// under the state directory, checked against the first entry's system.
fn elsewhere(
    config: &Config,
    shared: &Shared,
    checkpoint: Option<&crate::checkpoint::Checkpoint>,
) -> Option<crate::pipeline::dispatcher::Elsewhere> {
    let (Some(found), None) = (&shared.found, checkpoint) else {
        return None;
    };
    let in_fleet = shared.systems.is_some();
    Some(crate::pipeline::dispatcher::Elsewhere {
        stores: found
            .iter()
            .filter(|store| store.dir != config.state.dir)
            .cloned()
            .collect(),
        root: config
            .state
            .dir
            .parent()
            .filter(|_| !config.source.name.trim().is_empty() && in_fleet)
            .map_or_else(|| config.state.dir.clone(), std::path::Path::to_path_buf),
        name: if in_fleet {
            config.source.name.trim().to_owned()
        } else {
            ".".to_owned()
        },
    })
}

/// The reader sees the stop at once unless it is inside a poll; a
/// stuck one is left behind after this (the process exits around it).
const READER_JOIN_LIMIT: Duration = Duration::from_secs(2);

/// Stops the reader, then every task, joins the reader thread and prints
/// the summary. A panic found while stopping fails a run that had not failed.
async fn shut_down(
    mut dispatcher: Dispatcher,
    result: Result<Outcome, RunError>,
) -> Result<Outcome, RunError> {
    dispatcher.notifier.stopping();
    dispatcher.stop_reading();
    let stopped = dispatcher.supervisor.shutdown(READER_JOIN_LIMIT).await;
    info!("summary: {}", dispatcher.stats.summary());
    let outcome = result?;
    stopped.map(|()| outcome)
}

/// The session table, as committed with the checkpoint, when sessions are
/// enabled and JS is read. (Whether the journal has the profile swaps that
/// host-server sessions need is checked when the ODBC session opens.)
fn sessions_tracker(
    system: &SystemPlan,
    store: &CheckpointStore,
    checkpoint: Option<&crate::checkpoint::Checkpoint>,
) -> Result<Option<crate::enrich::sessions::SessionTracker>, RunError> {
    let config = &system.config;
    if !config.sessions.enabled || !system.source.reads_js() {
        return Ok(None);
    }
    let open = store.load_sessions()?;
    if !open.is_empty() {
        info!(
            open = open.len(),
            "sessions open at the checkpoint restored"
        );
    }
    Ok(Some(crate::enrich::sessions::SessionTracker::restore(
        &config.sessions,
        open,
        checkpoint.map(|checkpoint| &checkpoint.cursor),
    )))
}
