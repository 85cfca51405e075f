// The guest workload of a trial, from the resolved options: a fresh driver per trial, since
// each holds its trial's sockets and heartbeats.

import type { GuestDriver } from './types.js';
import type { GuestSpec } from './types.js';
import { BuiltinGuest } from './builtin.js';
import { ImageGuest } from './image.js';

export function guestFactory(spec: GuestSpec): (() => GuestDriver) | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'builtin':
      return () =>
        new BuiltinGuest({
          touch: spec.touch,
          dirtyRateMiBs: spec.dirtyRateMiBs,
          workingSetMiB: spec.workingSetMiB,
          heartbeatMs: spec.heartbeatMs,
          readyTimeoutMs: spec.readyTimeoutMs,
          // 100 gaps, collected while the monitors are configured (it was a fixed 500 ms).
          baselineMs: Math.max(100, 100 * spec.heartbeatMs),
          measureDirtyRate: true,
        });
    case 'image':
      return () =>
        new ImageGuest({
          image: spec.image,
          ...(spec.readyPattern !== undefined && { readyPattern: spec.readyPattern }),
          ...(spec.bootWaitMs !== undefined && { bootWaitMs: spec.bootWaitMs }),
          readyTimeoutMs: spec.readyTimeoutMs,
        });
  }
}
