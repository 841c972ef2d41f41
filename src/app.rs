//! The app: wires one run together from the configuration (checkpoint store,
//! telemetry listener, sinks and their start-up checks, the reader thread, the
//! sink tasks) and hands it to the dispatcher. Everything here happens once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::checkpoint::CheckpointStore;
use crate::enrich::{Enricher, Filter};
use crate::event::EventBatch;
use crate::pipeline::dead_letter::DeadLetter;
use crate::pipeline::dispatcher::Dispatcher;
use crate::pipeline::ledger::Ledger;
use crate::pipeline::sink_task::{Report, SinkTask};
pub use crate::pipeline::{Outcome, RunError, RunOptions};
use crate::settings::Config;
use crate::sink::{ErrorKind, Sink};
use crate::source::{self, ReaderHeartbeat, Source, SourceMessage};
use crate::telemetry::notify::Notifier;
use crate::telemetry::{http, Metrics};

/// Runs the daemon until the source is exhausted (with `exit_when_caught_up`),
/// `shutdown` completes, or something fails for good.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, RunError> {
    let found = Arc::new(report_checkpoints(&config));
    if config.sources.is_empty() {
        let shared = Shared {
            found: Some(found),
            ..Shared::default()
        };
        run_pipeline(config, options, shutdown, None, shared).await
    } else {
        run_fleet(config, options, shutdown, found).await
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
}

type Finished = (String, Result<Outcome, RunError>);

/// Several systems, each with its own reader thread, connection, checkpoint
/// (`state.dir/<name>`), sinks and sink tasks: one slow or unreachable
/// system never blocks another. One telemetry listener shows them all, each
/// labelled `source="<name>"`. A system that fails for good stops alone (the
/// others go on; the exit code says so at the end), except for two sources on
/// one SYSTEM_NAME, which stops every one.
pub async fn run_fleet(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    found: Arc<Vec<crate::checkpoint::FoundStore>>,
) -> Result<Outcome, RunError> {
    let registry = Arc::new(SystemRegistry::default());
    let mut systems = Vec::new();
    let mut runs: Vec<Option<std::pin::Pin<Box<dyn Future<Output = Finished> + Send>>>> =
        Vec::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for source in config.effective_sources() {
        let name = source.name.trim().to_owned();
        let one = config.for_source(&source);
        let sink_names: Vec<String> = one
            .effective_sinks()
            .iter()
            .map(|sink| sink.describe())
            .collect();
        let metrics = Arc::new(Metrics::new(&sink_names));
        systems.push((name.clone(), metrics.clone()));
        let mut stopped = stopped.clone();
        let shared = Shared {
            metrics: Some(metrics),
            systems: Some(registry.clone()),
            found: Some(found.clone()),
        };
        runs.push(Some(Box::pin(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let result = run_pipeline(one, options, shutdown, None, shared).await;
            (name, result)
        })));
    }
    info!(systems = %systems.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", "), "reading several systems");
    let mut listener = match config.telemetry.listen.as_str() {
        "" => None,
        address => {
            let listener = http::bind(address).await.map_err(RunError::Telemetry)?;
            if let Ok(bound) = listener.local_addr() {
                info!(address = %bound, "telemetry listening: /metrics and /health, every system labelled");
            }
            Some(AbortOnDrop(tokio::spawn(http::serve(
                listener,
                Arc::new(crate::telemetry::FleetMetrics {
                    systems: systems.clone(),
                }),
                config.telemetry.health_max_checkpoint_age,
            ))))
        }
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let mut stopping = false;
    let mut first_error: Option<RunError> = None;
    let fleet = config.fleet.clone();
    let mut reminder = tokio::time::interval(fleet.failure_reminder);
    reminder.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    reminder.reset();
    let mut undelivered = 0;
    let mut grace_expired = false;
    while runs.iter().any(Option::is_some) {
        let next = std::future::poll_fn(|cx| {
            for slot in runs.iter_mut() {
                if let Some(run) = slot {
                    if let std::task::Poll::Ready(done) = run.as_mut().poll(cx) {
                        *slot = None;
                        return std::task::Poll::Ready(done);
                    }
                }
            }
            std::task::Poll::Pending
        });
        tokio::select! {
            () = &mut shutdown, if !stopping => {
                stopping = true;
                let _ = stop.send(true);
            }
            ended = async {
                match listener.as_mut() {
                    Some(AbortOnDrop(handle)) => handle.await,
                    None => std::future::pending().await,
                }
            }, if listener.is_some() && !stopping => {
                // The shared listener is supervised as a single pipeline's is:
                // its end fails the fleet (exit 70) after every system drains.
                listener = None;
                let what = match ended {
                    Err(error) if error.is_panic() => "the telemetry listener panicked",
                    _ => "the telemetry listener ended unexpectedly",
                };
                tracing::error!("{what}; stopping every system");
                first_error = Some(RunError::Internal(what.to_owned()));
                stopping = true;
                let _ = stop.send(true);
            }
            _ = reminder.tick(), if !stopping => {
                for (name, metrics) in &systems {
                    if let Some((code, why)) = metrics.stopped() {
                        tracing::error!(source = %name, exit_code = code, "system still stopped, its entries are not being read (the other systems go on; [fleet] on_source_failure = \"continue\"): {why}");
                    }
                }
            }
            (name, result) = next => match result {
                Ok(Outcome::Drained) => info!(source = %name, "system done"),
                Ok(Outcome::GraceExpired { undelivered_batches }) => {
                    grace_expired = true;
                    undelivered += undelivered_batches;
                }
                Err(error) => {
                    tracing::error!(source = %name, exit_code = error.exit_code(), "system stopped: {error}");
                    if let Some((_, metrics)) = systems.iter().find(|(known, _)| *known == name) {
                        metrics.record_stopped(error.exit_code(), &error.to_string());
                    }
                    let exit_all = matches!(error, RunError::DuplicateSystem(_))
                        || fleet.on_source_failure == crate::settings::OnSourceFailure::Exit;
                    if exit_all && !stopping {
                        if !matches!(error, RunError::DuplicateSystem(_)) {
                            tracing::error!(source = %name, "stopping every system: [fleet] on_source_failure = \"exit\"");
                        }
                        stopping = true;
                        let _ = stop.send(true);
                    }
                    if first_error.as_ref().is_none_or(|known| known.exit_code() == crate::exit_code::OK) {
                        first_error = Some(error);
                    }
                }
            },
        }
    }
    match first_error {
        Some(error) => Err(error),
        None if grace_expired => Ok(Outcome::GraceExpired {
            undelivered_batches: undelivered,
        }),
        None => Ok(Outcome::Drained),
    }
}

/// Something called with the run's metrics every couple of seconds and once
/// at the end (a backfill's progress display).
pub type Observer = std::sync::Arc<dyn Fn(&Metrics) + Send + Sync>;

/// [`run`], calling `observer` with the metrics while it runs.
pub async fn run_observed(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    observer: Option<Observer>,
) -> Result<Outcome, RunError> {
    run_pipeline(config, options, shutdown, observer, Shared::default()).await
}

async fn run_pipeline(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    observer: Option<Observer>,
    shared: Shared,
) -> Result<Outcome, RunError> {
    let notifier = Notifier::from_environment();
    let state_dir = config.state.dir.clone();
    let accept_lost = options.accept_lost_checkpoint;
    let (store, lost_checkpoint) =
        tokio::task::spawn_blocking(move || CheckpointStore::open_checked(&state_dir, accept_lost))
            .await
            .map_err(|error| {
                RunError::Internal(format!("opening the state directory: {error}"))
            })??;
    if let Some(lost) = &lost_checkpoint {
        tracing::error!(state_dir = %lost.dir.display(), "the checkpoint was lost; starting from the source's start point as --accept-lost-checkpoint asks, and sending an audit_gap event");
    }
    let store = Arc::new(store);
    let checkpoint = store.load()?;
    let sessions = sessions_tracker(&config, &store, checkpoint.as_ref())?;
    match &checkpoint {
        Some(checkpoint) => {
            info!(cursor = %checkpoint.cursor, committed_at = %checkpoint.committed_at, "resuming after the checkpoint")
        }
        None => {
            info!(state_dir = %config.state.dir.display(), "no checkpoint yet: starting from the source's beginning")
        }
    }

    let sink_configs = config.effective_sinks();
    let names: Vec<String> = sink_configs.iter().map(|sink| sink.describe()).collect();
    let stats = shared
        .metrics
        .clone()
        .unwrap_or_else(|| Arc::new(Metrics::new(&names)));
    let mut listener = match config.telemetry.listen.as_str() {
        "" => None,
        address => {
            let listener = http::bind(address).await.map_err(RunError::Telemetry)?;
            if let Ok(bound) = listener.local_addr() {
                info!(address = %bound, "telemetry listening: /metrics and /health");
            }
            Some(AbortOnDrop(tokio::spawn(http::serve(
                listener,
                stats.clone(),
                config.telemetry.health_max_checkpoint_age,
            ))))
        }
    };
    let mut sinks = Vec::with_capacity(sink_configs.len());
    for (sink_config, name) in sink_configs.iter().zip(&names) {
        let mut sink = Sink::build(sink_config).map_err(|error| RunError::SinkSetup {
            sink: name.clone(),
            error,
        })?;
        match sink.check().await {
            Ok(()) => info!(sink = %name, "sink ready"),
            Err(error) if error.kind == ErrorKind::Permanent => {
                return Err(RunError::SinkStartup {
                    sink: name.clone(),
                    error,
                });
            }
            Err(error) => {
                warn!(sink = %name, %error, "sink not reachable yet; deliveries will retry with backoff")
            }
        }
        sinks.push((name.clone(), sink));
    }

    // Sessions see every JS entry, so the reader must not narrow its query
    // by [filter] (a swap back to QUSER ends a session yet is filtered out);
    // the dispatcher applies the filter after the sessions have seen the row.
    let read_everything = crate::enrich::config::FilterConfig {
        entry_types: Vec::new(),
        include_users: Vec::new(),
        exclude_users: Vec::new(),
    };
    let source = Source::open(
        &config.source,
        if sessions.is_some() {
            &read_everything
        } else {
            &config.filter
        },
        checkpoint.as_ref().map(|c| &c.cursor),
    )?;
    let wedge_limit = source.wedge_limit(&config.source);
    let (source_sender, source_receiver) = mpsc::channel::<SourceMessage>(1);
    let stop_reader = Arc::new(AtomicBool::new(false));
    let heartbeat = Arc::new(ReaderHeartbeat::new());
    let reader = source::spawn_reader(
        source,
        &config.source,
        source_sender,
        stop_reader.clone(),
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
    )
    .map_err(|error| RunError::Internal(format!("cannot start the source thread: {error}")))?;

    let in_flight = config.pipeline.max_batches_in_flight;
    let (report_sender, reports) = mpsc::channel::<Report>(in_flight * sinks.len() + 1);
    let dead_letter = Arc::new(DeadLetter::new(&config.pipeline.dead_letter_path));
    let mut sink_senders = Vec::new();
    let mut sink_tasks = JoinSet::new();
    let sink_count = sinks.len();
    for (index, ((name, sink), sink_config)) in sinks.into_iter().zip(&sink_configs).enumerate() {
        let (sender, receiver) = mpsc::channel::<Arc<EventBatch>>(in_flight);
        sink_senders.push(sender);
        let task = SinkTask {
            index,
            name,
            sink,
            max_in_flight: sink_config.max_in_flight().clamp(1, in_flight),
            pipeline: config.pipeline.clone(),
            dead_letter: dead_letter.clone(),
            stats: stats.clone(),
            reports: report_sender.clone(),
        };
        sink_tasks.spawn(task.run(receiver));
    }
    drop(report_sender);

    let mut dispatcher = Dispatcher {
        store,
        stats: stats.clone(),
        notifier,
        ledger: Ledger::new(sink_count),
        max_in_memory: config.pipeline.batches_in_memory(),
        alive: Vec::new(),
        lost_checkpoint,
        source: source_receiver,
        stop_reader: stop_reader.clone(),
        heartbeat,
        wedge_limit,
        sink_senders,
        reports,
        sink_tasks,
        enricher: Enricher::new(&config.alerts)
            .with_schema(config.event.schema_version)
            .with_source_name(&config.source.name),
        systems: shared
            .systems
            .clone()
            .map(|registry| (registry, config.source.name.trim().to_owned())),
        elsewhere: match (&shared.found, &checkpoint) {
            (Some(found), None) => Some(crate::pipeline::dispatcher::Elsewhere {
                stores: found
                    .iter()
                    .filter(|store| store.dir != config.state.dir)
                    .cloned()
                    .collect(),
                root: config
                    .state
                    .dir
                    .parent()
                    .filter(|_| !config.source.name.trim().is_empty() && shared.systems.is_some())
                    .map_or_else(|| config.state.dir.clone(), std::path::Path::to_path_buf),
                name: if shared.systems.is_some() {
                    config.source.name.trim().to_owned()
                } else {
                    ".".to_owned()
                },
            }),
            _ => None,
        },
        filter: Filter::new(&config.filter),
        burst: (config.alerts.signon_failure_burst.enabled
            && config.source.types().iter().any(|spec| spec.code == "PW"))
        .then(|| {
            crate::enrich::burst::BurstDetector::new(
                &config.alerts.signon_failure_burst,
                checkpoint.as_ref().and_then(|c| c.cursor.signals.as_ref()),
            )
        }),
        sessions,
        max_in_flight: in_flight,
        grace: config.pipeline.shutdown_grace,
        summary_interval: config.telemetry.summary_interval,
    };
    let _observing = observer.clone().map(|observe| {
        let stats = stats.clone();
        AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(2));
            loop {
                every.tick().await;
                observe(&stats);
            }
        }))
    });
    // The listener is supervised: if it ends (a panic in it), the run fails
    // with exit 70 instead of going on blind; nothing uncommitted is lost,
    // since commits only follow deliveries.
    let listener_ended = async {
        match listener.as_mut() {
            Some(AbortOnDrop(handle)) => {
                let outcome = handle.await;
                RunError::Internal(match outcome {
                    Err(error) if error.is_panic() => {
                        let what = crate::source::panic_message(&*error.into_panic());
                        format!("the telemetry listener panicked: {what}")
                    }
                    _ => "the telemetry listener ended unexpectedly".to_owned(),
                })
            }
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        result = dispatcher.run(shutdown) => result,
        error = listener_ended => Err(error),
    };
    if let Some(observe) = &observer {
        observe(&stats);
    }
    dispatcher.notifier.stopping();

    stop_reader.store(true, Ordering::Release);
    dispatcher.source.close();
    dispatcher.sink_tasks.abort_all();
    while dispatcher.sink_tasks.join_next().await.is_some() {}
    // The reader sees the stop flag within 50 ms unless it is inside a poll;
    // a stuck one is left behind (the process exits around it).
    let waited_since = tokio::time::Instant::now();
    while !reader.is_finished() && waited_since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    info!("summary: {}", stats.summary());
    result
}

/// The session table, as committed with the checkpoint, when sessions are
/// enabled and JS is read. (Whether the journal has the profile swaps that
/// host-server sessions need is checked when the ODBC session opens.)
fn sessions_tracker(
    config: &Config,
    store: &CheckpointStore,
    checkpoint: Option<&crate::checkpoint::Checkpoint>,
) -> Result<Option<crate::enrich::sessions::SessionTracker>, RunError> {
    let reads_js = config.source.types().iter().any(|spec| spec.is_js());
    if !config.sessions.enabled || !reads_js {
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

/// Aborts a background task when the run ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
