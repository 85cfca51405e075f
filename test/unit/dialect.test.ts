import { describe, expect, it } from 'vitest';
import { chooseDialect, helpCommands, parseQemuVersion } from '../../src/qemu/dialect.js';

// Excerpts of the monitor's `help` in the shape QEMU prints it (hmp-commands.hx).
const HELP_2_4 = `migrate [-d] [-b] [-i] uri -- migrate to URI (using -d to not wait for completion)
migrate_cancel  -- cancel the current VM migration
migrate_set_cache_size value -- set cache size (in bytes) for XBZRLE migrations
migrate_set_capability capability state -- Enable/Disable the usage of a capability for migration
migrate_set_downtime value -- set maximum tolerated downtime (in seconds) for migrations
migrate_set_speed value -- set maximum speed (in bytes) for migrations. Defaults to MB if no size suffix is specified, ie. B/K/M/G/T
quit|q  -- quit the emulator`;
const HELP_7_2 = `migrate [-d] [-b] [-i] [-r] uri -- migrate to URI (using -d to not wait for completion)
migrate_set_capability capability state -- Enable/Disable the usage of a capability for migration
migrate_set_parameter parameter value -- Set the parameter for migration
quit|q  -- quit the emulator`;

describe('QEMU versions', () => {
  it('reads the --version line of distributions and git builds', () => {
    expect(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)')).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(parseQemuVersion('QEMU emulator version 2.4.1, Copyright (c) 2003-2008 Fabrice Bellard')).toEqual({ major: 2, minor: 4, micro: 1 });
    expect(parseQemuVersion('QEMU emulator version 10.1.50 (v10.1.0-1234-gabcdef)')).toEqual({ major: 10, minor: 1, micro: 50 });
    expect(parseQemuVersion('not qemu')).toBeUndefined();
  });
});

describe('dialect choice', () => {
  it('uses the seed commands where the monitor has them', () => {
    const d = chooseDialect('QEMU emulator version 2.4.1', HELP_2_4);
    expect(d.parameterStyle).toBe('legacy');
    expect(d.setSpeed(0)).toBe('migrate_set_speed 0');
    // A bare number would mean MB to migrate_set_speed: the unit is always explicit.
    expect(d.setSpeed(1048576)).toBe('migrate_set_speed 1048576B');
    expect(d.setDowntime(10)).toBe('migrate_set_downtime 0.01');
    expect(d.setDowntime(300)).toBe('migrate_set_downtime 0.3');
    expect(d.serverFlags).toBe('server,nowait');
    expect(d.accelArgs('kvm')).toEqual(['-machine', 'accel=kvm']);
    expect(d.millisecondsSpelledOut).toBe(true);
  });

  it('uses migrate_set_parameter where the old commands are gone (6.0+)', () => {
    const d = chooseDialect('QEMU emulator version 7.2.22', HELP_7_2);
    expect(d.parameterStyle).toBe('parameters');
    expect(d.setSpeed(0)).toBe('migrate_set_parameter max-bandwidth 0');
    expect(d.setSpeed(100 * 1024 * 1024)).toBe('migrate_set_parameter max-bandwidth 104857600B');
    expect(d.setDowntime(10)).toBe('migrate_set_parameter downtime-limit 10');
    expect(d.serverFlags).toBe('server=on,wait=off');
    expect(d.accelArgs('tcg')).toEqual(['-accel', 'tcg']);
    expect(d.millisecondsSpelledOut).toBe(false);
  });

  it('lets the help listing overrule the version (backports, custom builds)', () => {
    expect(chooseDialect('QEMU emulator version 6.1.0', HELP_2_4).parameterStyle).toBe('legacy');
    expect(chooseDialect('QEMU emulator version 5.0.0', HELP_7_2).parameterStyle).toBe('parameters');
  });

  it('falls back on the version without a help listing', () => {
    expect(chooseDialect('QEMU emulator version 5.2.0').parameterStyle).toBe('legacy');
    expect(chooseDialect('QEMU emulator version 6.0.0').parameterStyle).toBe('parameters');
  });

  it('lists command names and aliases', () => {
    const names = helpCommands(HELP_2_4);
    expect(names.has('migrate_set_speed')).toBe(true);
    expect(names.has('q')).toBe(true);
    expect(names.has('quit')).toBe(true);
  });
});
