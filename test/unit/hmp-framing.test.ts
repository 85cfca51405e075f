import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyReply, extractReply, greetingComplete, PROMPT, replyComplete } from '../../src/qemu/hmp-framing.js';
import { infoMigrateFromTranscript, splitTranscript } from '../../src/qemu/transcript.js';

const dir = new URL('../fixtures/hmp-7.2/', import.meta.url);
const raw = (name: string) => readFileSync(new URL(`qemu-7.2-${name}.raw`, dir), 'latin1');

/** The part of a fixture that answers the typed command (after the greeting's prompt). */
function afterGreeting(text: string): string {
  const i = text.indexOf(PROMPT);
  return text.slice(i + PROMPT.length);
}

describe('HMP framing on real QEMU 7.2 bytes', () => {
  it('recognises the greeting', () => {
    const text = raw('none');
    const greeting = text.slice(0, text.indexOf(PROMPT) + PROMPT.length);
    expect(greetingComplete(greeting)).toBe(true);
    expect(greeting.split('\r\n')[0]).toBe("QEMU 7.2.22 monitor - type 'help' for more information");
  });

  it('finds the end of a reply only at the prompt after the echo, whatever the chunking', () => {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.raw'))) {
      const reply = afterGreeting(readFileSync(new URL(file, dir), 'latin1'));
      // Feed byte by byte: complete exactly once, at the end.
      let completeAt = -1;
      for (let i = 1; i <= reply.length; i++) {
        if (replyComplete(reply.slice(0, i))) {
          completeAt = i;
          break;
        }
      }
      expect(completeAt, file).toBe(reply.length);
    }
  });

  it('strips echo, escapes and prompt from info migrate', () => {
    const out = extractReply(afterGreeting(raw('completed')));
    expect(out.split('\n')[0]).toBe('globals:');
    expect(out).toContain('Migration status: completed');
    expect(out).toContain('downtime: 4 ms');
    expect(out).not.toMatch(/\x1b|\r|\(qemu\)/);
    expect(out.endsWith('downtime ram: 20 kbytes')).toBe(true);
  });

  it('gives empty output for commands that print nothing', () => {
    for (const name of ['set-speed', 'set-downtime', 'migrate']) {
      const out = extractReply(afterGreeting(raw(name)));
      expect(out, name).toBe('');
      expect(classifyReply(out).kind).toBe('ok');
    }
  });

  it('turns Error: replies into errors that carry QEMU words, hints included', () => {
    const r = classifyReply(extractReply(afterGreeting(raw('bad-param'))));
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.message).toMatch(/^Parameter 'downtime-limit' expects a non-negative number below 2\^64/);
    expect(r.message).toContain('exabytes, respectively.');
    const refused = classifyReply(extractReply(afterGreeting(raw('migrate-refused'))));
    expect(refused).toMatchObject({ kind: 'error', message: "Can't migrate the vm that was paused due to previous migration" });
  });

  it('recognises unknown commands', () => {
    // QEMU 7.2's reply to the pre-6.0 command, as monitor_parse_command prints it.
    const r = classifyReply("unknown command: 'migrate_set_speed'");
    expect(r).toMatchObject({ kind: 'unknown-command', command: 'migrate_set_speed' });
  });
});

describe('saved transcripts', () => {
  it('recovers the typed command from readline redraws', () => {
    const cmds = splitTranscript(raw('migrate'));
    expect(cmds[0]?.command).toBe('migrate -d tcp:127.0.0.1:4445');
  });

  it('picks the info migrate output out of a whole session', () => {
    const session = raw('set-speed') + afterGreeting(raw('completed'));
    const text = infoMigrateFromTranscript(session);
    expect(text.split('\n')[0]).toBe('globals:');
    expect(text).toContain('Migration status: completed');
  });

  it('takes plain printed lines as they are', () => {
    expect(infoMigrateFromTranscript('Migration status: completed\r\ndowntime: 5 ms\r\n')).toBe(
      'Migration status: completed\ndowntime: 5 ms\n',
    );
  });
});
