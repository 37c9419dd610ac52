// Preloaded into a process the bench measures (`node -r bench/peak.cjs …`): writes the process's
// peak RSS in MB to the file $PIKO_BENCH_PEAK names, as it exits.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.PIKO_BENCH_PEAK, String(process.resourceUsage().maxRSS / 1024));
});
