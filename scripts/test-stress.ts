/**
 * `npm run test:stress [-- --runs N]`: the whole test suite (`npm run test:run`) with a CPU
 * hog on every core, N times in a row (default 3). It proves the suite judges events, not
 * the machine's speed: a test that passes only on an idle machine fails here. Prints each
 * run's duration and exits non-zero at the first failing run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);

/** One busy loop per core, each in its own process at normal priority. */
function startHogs(): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }),
  );
}

function runSuite(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "test:run"], { stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const hogs = startHogs();
const stopHogs = () => hogs.forEach((h) => h.kill("SIGKILL"));
process.on("exit", stopHogs);
process.on("SIGINT", () => process.exit(130));
const durations: number[] = [];
let failed = 0;
for (let i = 1; i <= runs; i++) {
  const t0 = Date.now();
  const code = await runSuite();
  durations.push((Date.now() - t0) / 1000);
  console.log(`test:stress run ${i}/${runs}: exit ${code} in ${durations.at(-1)!.toFixed(0)} s`);
  if (code !== 0) {
    failed = i;
    break;
  }
}
stopHogs();
console.log(
  failed
    ? `test:stress: run ${failed} failed (${hogs.length} CPU hogs)`
    : `test:stress: ${runs} runs passed with ${hogs.length} CPU hogs: ${durations.map((d) => `${d.toFixed(0)} s`).join(", ")}`,
);
process.exit(failed ? 1 : 0);
