// Which QEMU tracepoints a breakdown reads, and the arguments that make QEMU write them: what
// `-trace help` lists decides between the full breakdown (vmstate_downtime checkpoints, QEMU
// 8.2 or later), the legacy one (run states and KVM slot updates) and none.

export const NO_TRACEPOINTS_NOTE = 'breakdown needs a QEMU with the vmstate_downtime tracepoints';

/** The tracepoints a breakdown reads (see traceArgs). */
export const TRACE_EVENTS = [
  'vmstate_downtime_checkpoint',
  'vmstate_downtime_save',
  'vmstate_downtime_load',
  'global_dirty_changed',
  // KVM memory-slot updates: when dirty logging is switched off the slots are re-registered
  // without KVM_MEM_LOG_DIRTY_PAGES, so these show how long stopping it took. On the
  // destination they also show the slot remapping that loading chipset state (PAM) causes.
  // A handful of lines per migration.
  'kvm_set_user_memory',
  // "running 0 reason finish-migrate" is printed once pause_all_vcpus() returned: the moment
  // the guest stopped running, which src-downtime-start precedes by global_state_store and the
  // vCPU kick. One line per side.
  'vm_state_notify',
] as const;

/**
 * What QEMU before 8.2 (no vmstate_downtime_checkpoint) can still tell about the pause, each
 * enabled only where `-trace help` lists it (5.2 lacks global_dirty_changed and
 * migration_completion_vm_stop):
 *   runstate_set           source running → finish-migrate: the vCPUs are being stopped (after
 *                          downtime_start, global_state_store and the wakeup request); on the
 *                          destination inmigrate → running: the VM starts
 *   vm_state_notify        the same edges, after the VM-state change handlers ran
 *   migrate_set_state      source → completed: the stream is finished
 *   migration_completion_vm_stop, savevm_state_complete_precopy: markers inside the pause
 *   global_dirty_changed, kvm_set_user_memory: when dirty logging stopped and how long it took
 * savevm_section_start/_end would bracket each device's save too, but they are written for every
 * iteration of every section while RAM is sent, and about 60 lines inside the pause: the
 * question asked here does not need them.
 */
export const LEGACY_TRACE_EVENTS = [
  'runstate_set',
  'vm_state_notify',
  'migrate_set_state',
  'migration_completion_vm_stop',
  'savevm_state_complete_precopy',
  'global_dirty_changed',
  'kvm_set_user_memory',
] as const;

export interface TracePlan {
  /** checkpoints: the full breakdown; legacy: the pause bracketed by run states, dirty-log stop only */
  mode: 'checkpoints' | 'legacy' | 'none';
  /** the -trace events to enable */
  events: string[];
}

/** Which events to trace, from the output of `qemu-system-x86_64 -trace help`. */
export function tracePlanOf(traceHelpOutput: string): TracePlan {
  if (typeof traceHelpOutput !== 'string') return { mode: 'none', events: [] };
  const listed = new Set(traceHelpOutput.split('\n').map((l) => l.trim()));
  if (listed.has('vmstate_downtime_checkpoint')) return { mode: 'checkpoints', events: [...TRACE_EVENTS] };
  const events = LEGACY_TRACE_EVENTS.filter((e) => listed.has(e));
  // Without the run-state edges there is no pause to bracket, without slot updates no stop to find.
  if (!listed.has('runstate_set') || !listed.has('kvm_set_user_memory')) return { mode: 'none', events: [] };
  return { mode: 'legacy', events };
}


/** The QEMU arguments that make one side write the log computeBreakdown reads. */
export function traceArgs(logPath: string, events: readonly string[] = TRACE_EVENTS): string[] {
  return [
    ...events.flatMap((e) => ['-trace', e]),
    // Without it trace lines carry no time at all.
    '-msg',
    'timestamp=on',
    '-D',
    logPath,
  ];
}

/** Does `qemu-system-x86_64 -trace help` (one event name per line) list the checkpoints? */
export function hasDowntimeTracepoints(traceHelpOutput: string): boolean {
  if (typeof traceHelpOutput !== 'string') return false;
  return traceHelpOutput.split('\n').some((l) => l.trim() === 'vmstate_downtime_checkpoint');
}
