// Preloaded with `node --import ./bench/rss-probe.mjs bin/migdown.js ...` by bench/run-bench.sh:
// on exit, appends this process's own peak RSS (getrusage RUSAGE_SELF ru_maxrss, which does
// not include the QEMU children) and VmHWM from /proc/self/status to $MIGDOWN_RSS_FILE.
import { appendFileSync, readFileSync } from 'node:fs';

const file = process.env.MIGDOWN_RSS_FILE;
if (file) {
  process.on('exit', (code) => {
    let vmHwmKb = '';
    try {
      vmHwmKb = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    } catch {
      // not Linux
    }
    const maxRssKb = process.resourceUsage().maxRSS;
    appendFileSync(file, `${process.env.MIGDOWN_RSS_LABEL ?? 'run'} maxrss_kb=${maxRssKb} vmhwm_kb=${vmHwmKb} exit=${code}\n`);
  });
}
