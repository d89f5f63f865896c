"""Options of the ``[conductor]`` group: the pool, periodics and locks."""

from oslo_config import cfg, types

group = cfg.OptGroup('conductor', title='Conductor options')

opts = [
    cfg.IntOpt(
        'workers_pool_size',
        default=300, min=3,
        help='Size of the one worker pool of a conductor process. RPC '
             'driven node actions, periodic tasks and every per-node step '
             'of a periodic task run on it; no other worker threads are '
             'created while the conductor runs.'),
    cfg.IntOpt(
        'reserved_workers_pool_percentage',
        default=5, min=0, max=50,
        help='Share of workers_pool_size (percent, at least one worker) '
             'that periodic work may never take, so that an operator '
             'action always finds a free worker even when many BMCs '
             'hang.'),
    cfg.IntOpt(
        'periodic_max_workers',
        default=8, min=1,
        mutable=True,
        help='Default number of nodes a per-node periodic task processes '
             'in parallel.'),
    cfg.IntOpt(
        'periodic_backoff_max',
        default=60, min=1,
        mutable=True,
        help='Longest wait, in seconds, between two runs of a periodic '
             'task that keeps failing (the database unreachable, for '
             'one). After the n-th failure in a row a task waits its '
             'interval times 2**n, up to this (never less than its '
             'interval); its first success ends the back-off. The '
             'heartbeat never backs off.'),
    cfg.IntOpt(
        'sync_power_state_interval',
        default=60, min=0,
        help='Seconds between two power-state sync runs. 0 disables the '
             'sync.'),
    cfg.IntOpt(
        'sync_power_state_workers',
        default=250, min=1,
        mutable=True,
        help='Number of nodes of healthy BMCs whose power state is read '
             'in parallel during a sync run. A read that outlives '
             'bmc_probe_timeout moves to the bmc_probe_workers budget '
             'while that has room, and BMCs that keep failing are probed '
             'on that budget only, so hung BMCs hold these only in the '
             'first cycle after they hang, beyond bmc_probe_workers of '
             'them. Reads also need free workers in workers_pool_size. '
             'Per-BMC concurrency is bounded by '
             'bmc_max_concurrent_requests and the drivers.'),
    cfg.FloatOpt(
        'power_state_read_timeout',
        default=10.0, min=0.1,
        mutable=True,
        help='Seconds a single BMC power-state read may take during sync '
             'before it is counted as a failure. Drivers also get this '
             'budget for their own network timeouts.'),
    cfg.FloatOpt(
        'action_timeout',
        default=60.0, min=0.1,
        mutable=True,
        help='Seconds the driver calls of one operator action (power, '
             'boot device, inspection) may take in all; drivers get it '
             'as the budget of their network timeouts.'),
    cfg.FloatOpt(
        'sensor_cache_seconds',
        default=5.0, min=0.0,
        mutable=True,
        help='Seconds a node\'s sensor readings (GET /v1/nodes/{node}/'
             'sensors) are served from the conductor\'s cache before its '
             'BMC is read again; a failed read is remembered as long. '
             'Requests for a node whose read is in flight wait for that '
             'read, so however many dashboards or scrapers ask, a BMC '
             'is read at most once per this interval. 0 reads on every '
             'request (still one read at a time per node).'),
    cfg.FloatOpt(
        'sensor_read_timeout',
        default=15.0, min=0.1,
        mutable=True,
        help='Seconds a sensor read of one node may take in all, every '
             'request to its BMC included; past it the request fails '
             'with the BMC timeout error.'),
    cfg.IntOpt(
        'sensor_metrics_window',
        default=600, min=0,
        mutable=True,
        help='Seconds a node\'s last sensor readings count in the '
             'conductor\'s fleet sensor metrics (podium_sensor_* at '
             '/metrics) after they were read; older readings are dropped '
             'from the cache.'),
    cfg.IntOpt(
        'bmc_health_window',
        default=100, min=1,
        help='Requests per BMC endpoint whose latency the conductor keeps '
             'for the BMC health record (latency percentiles in GET '
             '/v1/podium/bmcs and the node field bmc_health).'),
    cfg.IntOpt(
        'bmc_suspect_failures',
        default=1, min=1,
        mutable=True,
        help='Consecutive failed or timed-out requests after which a BMC '
             'is suspect: power sync no longer reads its nodes with the '
             'healthy ones but probes one of them per cycle with '
             'bmc_probe_timeout, on the bmc_probe_workers budget, until '
             'it answers again. A BMC that never answered this conductor '
             'and only timed out needs one more: a conductor logging in '
             'to thousands of BMCs at start-up can miss some deadlines by '
             'its own load.'),
    cfg.FloatOpt(
        'bmc_probe_timeout',
        default=3.0, min=0.1,
        mutable=True,
        help='Seconds a probe of a suspect BMC may take (twice the BMC\'s '
             '95th percentile latency when that is longer, never more '
             'than power_state_read_timeout). A read of a BMC not yet '
             'known to be suspect that takes longer than this stops '
             'counting against sync_power_state_workers and counts '
             'against bmc_probe_workers instead, while there is room.'),
    cfg.IntOpt(
        'bmc_probe_workers',
        default=16, min=1,
        mutable=True,
        help='Probes of suspect BMCs (and reads that outlived '
             'bmc_probe_timeout) power sync runs at once, apart from '
             'sync_power_state_workers. A cycle probes at most '
             'bmc_probe_workers times sync_power_state_interval / '
             'bmc_probe_timeout suspects, the least recently probed '
             'first, so hung BMCs never lengthen the cycle.'),
    cfg.StrOpt(
        'power_read_mode',
        default='async', choices=('threads', 'async'),
        mutable=True,
        help='How power sync waits for BMCs: "async" (the default) or '
             '"threads". "threads": each read holds '
             'a worker of sync_power_state_workers (or bmc_probe_workers) '
             'until it ends. "async": nodes whose power interface offers '
             'non-blocking reads (Redfish) are read on one event loop '
             'thread, thousands at once, each within its own timeout, so '
             'hung BMCs hold no worker and any number of them leaves the '
             'healthy nodes\' cycle unchanged. Nodes the fast path '
             'cannot serve (no connection opened yet, a 401, an unusual '
             'answer) and other '
             'drivers are read on threads as with "threads"; '
             'async_reads_in_flight bounds the reads starting at once.'),
    cfg.IntOpt(
        'async_reads_in_flight',
        default=512, min=1,
        mutable=True,
        help='With power_read_mode "async": power sync reads starting at '
             'once at most. Starting a read and reading its answer cost the '
             'conductor CPU, waiting does not, so a read counts until it '
             'ends or 0.5 s after its request is written (1 s after it '
             'started if the request is never written: a BMC that '
             'accepts no connection); reads merely waiting (hung BMCs) '
             'are not limited. Each read\'s timeout '
             'runs from its start. Too high, and a large fleet\'s reads '
             'start faster than one core can serve them and time out '
             'together; too low, and slow BMCs lengthen the cycle (at '
             'most this many reads per BMC latency).'),
    cfg.IntOpt(
        'bmc_max_concurrent_requests',
        default=2, min=1,
        mutable=True,
        help='Power sync requests in flight to one BMC endpoint at most '
             '(one for a suspect BMC), so that a struggling BMC is not '
             'hammered by many nodes behind it.'),
    cfg.BoolOpt(
        'bmc_recovery',
        default=False,
        mutable=True,
        help='After power_state_sync_max_retries failed power-state reads '
             'in a row, try to recover the BMC before maintenance: drop '
             'the cached session and reconnect, reset the BMC (Redfish '
             'Manager.Reset, IPMI mc reset cold; never while an action '
             'is in flight on the node), wait up to bmc_recovery_wait '
             'seconds for it to answer, and only then put the node in '
             'maintenance with fault "power failure". Each step is '
             'written to the node history.'),
    cfg.IntOpt(
        'bmc_reset_interval',
        default=300, min=0,
        mutable=True,
        help='Least seconds between two BMC resets of the recovery '
             'ladder in one conductor group, across all conductors of '
             'the group (the last reset of each group is kept in the '
             'database). A node whose reset the limit refuses goes into '
             'maintenance as without bmc_recovery.'),
    cfg.FloatOpt(
        'bmc_recovery_wait',
        default=120.0, min=1.0,
        mutable=True,
        help='Seconds the recovery ladder waits for a reset BMC to '
             'answer again before maintenance.'),
    cfg.IntOpt(
        'bmc_recovery_workers',
        default=4, min=1,
        mutable=True,
        help='Recovery ladders a conductor runs at once, each on a '
             'worker of the pool; more nodes wait for their next failed '
             'read.'),
    cfg.IntOpt(
        'power_state_sync_max_retries',
        default=3, min=1,
        mutable=True,
        help='Consecutive failed power-state reads after which a node is '
             'put into maintenance with fault "power failure".'),
    cfg.BoolOpt(
        'force_power_state_during_sync',
        default=False,
        mutable=True,
        help='When the BMC reports a power state other than the recorded '
             'one, push the recorded state back to the hardware instead '
             'of recording the new state.'),
    cfg.IntOpt(
        'heartbeat_interval',
        default=10, min=1,
        help='Seconds between two heartbeats of a conductor.'),
    cfg.IntOpt(
        'heartbeat_timeout',
        default=60, min=2,
        help='Seconds without a heartbeat after which a conductor is '
             'considered dead and its nodes are taken over.'),
    cfg.IntOpt(
        'graceful_shutdown_timeout',
        default=60, min=0,
        mutable=True,
        help='Seconds a stopping conductor waits for in-flight work to '
             'finish before it releases its locks and exits.'),
    cfg.IntOpt(
        'node_locked_retry_attempts',
        default=3, min=0,
        mutable=True,
        help='Extra attempts to take an exclusive node lock before '
             'NodeLocked is raised.'),
    cfg.FloatOpt(
        'node_locked_retry_interval',
        default=0.2, min=0.0,
        mutable=True,
        help='Seconds between two attempts to take a node lock.'),
    cfg.BoolOpt(
        'node_history',
        default=True,
        mutable=True,
        help='Record node history: faults, power state changes found by '
             'sync, actions and who asked for them. The clean-up task '
             'keeps purging old entries while this is off.'),
    cfg.IntOpt(
        'node_history_max_entries',
        default=300, min=0,
        mutable=True,
        help='Newest history entries kept per node; older ones are '
             'deleted by the clean-up task (entries younger than '
             'node_history_minimum_days always stay).'),
    cfg.IntOpt(
        'node_history_cleanup_interval',
        default=86400, min=0,
        help='Seconds between two runs of the node history clean-up '
             'task. 0 disables it.'),
    cfg.IntOpt(
        'node_history_cleanup_batch_count',
        default=1000, min=0,
        mutable=True,
        help='About how many history entries one clean-up run deletes at '
             'most (a node is always cleaned whole); the rest waits for '
             'the next run. 0 stops the clean-up.'),
    cfg.IntOpt(
        'node_history_minimum_days',
        default=0, min=0,
        mutable=True,
        help='History entries younger than this many days are never '
             'deleted, whatever node_history_max_entries says.'),
    cfg.StrOpt(
        'conductor_group',
        default='',
        help='Conductor group of this conductor. Nodes whose '
             'conductor_group is set are managed only by conductors of '
             'that group.'),
    cfg.BoolOpt(
        'automated_clean',
        default=True,
        mutable=True,
        help='Run automated cleaning (the clean steps with a priority '
             'above 0) when a node is provided or torn down. When off, '
             'nodes pass through "cleaning" straight to "available".'),
    cfg.IntOpt(
        'check_provision_state_interval',
        default=60, min=0,
        help='Seconds between two checks for nodes stuck in a transient '
             'provision state past their timeout. 0 disables the check.'),
    cfg.IntOpt(
        'deploy_callback_timeout',
        default=1800, min=0,
        mutable=True,
        help='Seconds a node may stay in "deploying" or "wait call-back" '
             'before it is failed into "deploy failed", counted from its '
             'installer\'s latest "start" call-back if there was one. 0 '
             'disables.'),
    cfg.IntOpt(
        'max_concurrent_deploy',
        default=250, min=1,
        mutable=True,
        help='Nodes that may be deploying ("deploying" or "wait '
             'call-back") at once, across all conductors; a deploy or '
             'rebuild beyond it is refused with HTTP 503 (Ironic\'s '
             'option).'),
    cfg.IntOpt(
        'max_concurrent_clean',
        default=50, min=1,
        mutable=True,
        help='Nodes that may be cleaning ("cleaning" or "clean wait") '
             'at once because of provide or manual clean, across all '
             'conductors; a request beyond it is refused with HTTP 503 '
             '(Ironic\'s option). The cleaning that follows an undeploy '
             'is not refused.'),
    cfg.Opt(
        'max_concurrent_deploy_by_group',
        type=types.Dict(value_type=types.Integer(min=1)),
        default={},
        mutable=True,
        help='Per conductor group, nodes of that group that may be '
             'deploying at once, as group:limit pairs (for example '
             '"rack-a:20,rack-b:50"); a group with its own installer '
             'backend then never sees more than it can take. Groups not '
             'listed are bound by max_concurrent_deploy only. The group '
             '"" (nodes in no group) cannot be listed.'),
    cfg.IntOpt(
        'clean_callback_timeout',
        default=1800, min=0,
        mutable=True,
        help='Seconds a node may stay in "cleaning" or "clean wait" '
             'before it is failed into "clean failed". 0 disables.'),
    cfg.IntOpt(
        'inspect_wait_timeout',
        default=1800, min=0,
        mutable=True,
        help='Seconds a node may stay in "inspecting" or "inspect wait" '
             'before it is failed into "inspect failed". 0 disables.'),
    cfg.IntOpt(
        'verify_timeout',
        default=600, min=0,
        mutable=True,
        help='Seconds a node may stay in "verifying" before it is sent '
             'back to "enroll". 0 disables.'),
    cfg.PortOpt(
        'metrics_port',
        default=0,
        help='TCP port on which this conductor serves its Prometheus '
             'metrics at /metrics (pool, periodic tasks, power sync, BMC '
             'latency). 0 serves none. Give every conductor of a host its '
             'own port. The API serves its own /metrics; "podium serve" '
             'shows the conductor\'s metrics there too.'),
    cfg.HostAddressOpt(
        'metrics_host',
        default='127.0.0.1',
        help='Address the conductor\'s metrics endpoint listens on. The '
             'endpoint has no authentication: expose it only to the '
             'Prometheus server.'),
    cfg.IntOpt(
        'batch_concurrency',
        default=50, min=1,
        mutable=True,
        help='Nodes of a batch (POST /v1/podium/batches) whose action is '
             'in flight at once, per conductor group, when the request '
             'sets no concurrency. Each holds the node\'s lock and a pool '
             'worker while it runs.'),
    cfg.FloatOpt(
        'batch_poll_interval',
        default=0.05, min=0.01,
        mutable=True,
        help='Seconds between two reads of the nodes a running batch '
             'waits for (one query for all of them).'),
    cfg.IntOpt(
        'batch_check_interval',
        default=10, min=0,
        help='Seconds between two checks for batches that no conductor '
             'runs: those of this conductor after a restart, and those '
             'of a conductor that stopped heartbeating, which this one '
             'then takes over. 0 disables the check (and the purge).'),
    cfg.IntOpt(
        'batch_retention_days',
        default=30, min=0,
        mutable=True,
        help='Days a finished batch and its per-node results are kept '
             'after their last change. 0 keeps them for ever.'),
    cfg.IntOpt(
        'hash_ring_partitions',
        default=64, min=1,
        help='Virtual nodes per conductor on the consistent hash ring. '
             'More spread nodes more evenly.'),
    cfg.IntOpt(
        'drift_check_interval',
        default=600, min=0,
        help='Seconds between two drift checks of the intended settings '
             'that power sync does not see (BIOS settings; the boot mode '
             'of drivers whose power read does not show it). Only nodes '
             'with intended settings are read. 0 disables the check; '
             'what power sync sees is checked every sync all the same.'),
    cfg.IntOpt(
        'drift_check_workers',
        default=8, min=1,
        mutable=True,
        help='Nodes a drift check reads (and puts back) in parallel.'),
    cfg.FloatOpt(
        'drift_check_timeout',
        default=30.0, min=0.1,
        mutable=True,
        help='Seconds the BMC calls of one node\'s drift check may take in '
             'all; a BMC that takes longer counts as a failed check of '
             'that node (logged), not as a drift.'),
    cfg.BoolOpt(
        'enforce_intended_settings',
        default=False,
        mutable=True,
        help='Put a drifted setting back to its intended value (under the '
             'node lock, never while an action is in flight; BIOS '
             'settings only on nodes that are manageable or available, '
             'as applying them restarts the node), then read it again: '
             'a setting the BMC accepted and did not keep is reported as '
             '"not kept". Off: drift is only reported.'),
    cfg.IntOpt(
        'drift_put_back_attempts',
        default=3, min=1,
        mutable=True,
        help='Times a drifted setting is put back before Podium gives up '
             'and only reports it; a new drift of the setting (another '
             'value, or a change of the intended value) starts afresh.'),
    cfg.BoolOpt(
        'intend_applied_settings',
        default=True,
        mutable=True,
        help='A boot mode set through Podium, or BIOS settings applied '
             'through the bios.apply_configuration clean step, become the '
             'node\'s intended settings (a bios.factory_reset drops its '
             'intended BIOS settings). Off: intended settings change only '
             'by PATCH (podium node set --intended-...).'),
]
