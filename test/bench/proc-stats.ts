/**
 * What a benchmark reads about processes and the machine from Linux's /proc: a process's CPU
 * time (utime + stime), per thread, its resident memory, and the whole machine's busy time.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux USER_HZ: the unit of the CPU times in /proc/<pid>/stat and /proc/stat. */
export const CLK_TCK = 100;

/** utime + stime of one `stat` line, s (fields 14 and 15). */
function cpuOfStat(stat: string): number {
  // Fields after the command name, which may hold spaces: utime and stime are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** utime + stime of a process, s. */
export function procCpuS(pid: number): number {
  return cpuOfStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** CPU seconds per thread name (`comm`: node's main thread is "node", V8 GC "V8Worker" …). */
export function threadCpuS(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(comm, (out.get(comm) ?? 0) + cpuOfStat(stat));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Resident and peak resident memory of a process, MiB (VmRSS, VmHWM). */
export function memoryOf(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024 };
}

/** Busy ticks of the whole machine (all cores) from /proc/stat, and the core count. */
export function machineCpu(): { busyTicks: number; cores: number } {
  const text = readFileSync("/proc/stat", "utf8");
  const [, ...v] = text.split("\n")[0]!.trim().split(/\s+/);
  const n = v.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = n[0]! + n[1]! + n[2]! + n[5]! + n[6]! + n[7]!;
  const cores = text.split("\n").filter((l) => /^cpu\d+ /.test(l)).length;
  return { busyTicks: busy, cores };
}
