import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (its threads included, its children not). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), i.e. 12 and 13 after `pid (comm)`; the rest starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Summed over several processes (nginx master + worker). */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

export interface Memory {
  /** Resident set now, in MiB. */
  rssMb: number;
  /** Peak resident set (VmHWM), in MiB. */
  peakMb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kib('VmRSS') / 1024, peakMb: kib('VmHWM') / 1024 };
}

/** Direct children of a process (Linux 3.5+ with CONFIG_PROC_CHILDREN). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Samples a process's VmRSS every `intervalMs` until stopped; resolves with the highest value. */
export function sampleRss(pid: number, intervalMs = 50): { stop(): number } {
  let max = memoryOf(pid).rssMb;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memoryOf(pid).rssMb);
    } catch {
      // The process is gone; keep what was seen.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        max = Math.max(max, memoryOf(pid).rssMb);
      } catch {}
      return max;
    },
  };
}
