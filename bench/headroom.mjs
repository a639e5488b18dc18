// How fast could any service go on this machine? Reads a `../shared/bench/compare.sh` results
// folder and, per target and phase (medians over the rounds), splits the machine's CPU between the
// service and everything else the phase needs: the load generator, the SMTP sink, PostgreSQL,
// Redis and the kernel's loopback networking. If everything else keeps costing what it did per
// request, a service that needed no CPU at all would stop at (cores / everything else per request):
// that is the bound printed, also as a multiple of the peer's measured req/s.
// Usage: node bench/headroom.mjs RESULTS_DIR [--peer better-auth]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { peer: { type: 'string', default: 'better-auth' } } });
const [dir] = positionals;
if (!dir) {
  console.error('usage: node bench/headroom.mjs RESULTS_DIR [--peer better-auth]');
  process.exit(2);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const runs = readdirSync(dir)
  .filter((name) => /^[\w-]+-\d+\.json$/.test(name) && !name.startsWith('warmup-'))
  .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')));
if (runs.length === 0) {
  console.error(`no rounds in ${dir}`);
  process.exit(2);
}

const rows = new Map(); // `${target} ${phase}` -> per-round figures
for (const run of runs) {
  for (const [phase, result] of Object.entries(run.phases)) {
    const cores = result.cpuCores;
    const service = cores[run.target] ?? cores.peer;
    if (!result.rps || service === undefined) continue;
    const key = `${run.target} ${phase}`;
    const row = rows.get(key) ?? { target: run.target, phase, cpus: run.cpus, rps: [], machine: [], service: [], othersMs: [] };
    row.rps.push(result.rps);
    row.machine.push(cores.machine);
    row.service.push(service);
    row.othersMs.push(((cores.machine - service) / result.rps) * 1000);
    rows.set(key, row);
  }
}

const peerRps = (phase) => {
  const peer = rows.get(`${args.peer} ${phase}`);
  return peer ? median(peer.rps) : undefined;
};

console.log(`headroom · ${dir} · ${runs.length} rounds · medians`);
console.log();
console.log('| target | phase | req/s | machine cores | service cores | service ms/req | everything else ms/req | bound: req/s with a service costing nothing | bound / peer req/s |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows.values()) {
  const rps = median(row.rps);
  const othersMs = median(row.othersMs);
  const bound = (row.cpus / othersMs) * 1000;
  const peer = peerRps(row.phase);
  console.log(
    `| ${row.target} | ${row.phase} | ${Math.round(rps)} | ${median(row.machine).toFixed(2)} | ${median(row.service).toFixed(2)} | ` +
      `${((median(row.service) / rps) * 1000).toFixed(3)} | ${othersMs.toFixed(3)} | ${Math.round(bound)} | ${peer ? `${(bound / peer).toFixed(2)}×` : 'n/a'} |`,
  );
}
