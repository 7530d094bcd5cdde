// Making the calling thread yield the CPU to the others. Linux schedules threads individually:
// the native addon (native/src/thread_sched.c) moves the thread to SCHED_IDLE, which runs only
// when no ordinary thread wants a CPU; without the addon the thread is reniced with
// setpriority(PRIO_PROCESS, tid), which Node exposes as os.setPriority with the kernel's thread
// id read from /proc/thread-self. Elsewhere nothing changes.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { requireNativeAddon } from './native-addon.ts';

/** The nice value used when SCHED_IDLE is unavailable (19 is the lowest priority). */
const BACKGROUND_NICE = 10;

export type BackgroundMode = 'sched-idle' | 'nice' | 'unchanged';

/** The kernel's id for the calling thread (Linux), or undefined. */
function currentThreadId(): number | undefined {
  try {
    // "/proc/thread-self" → "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

function schedIdle(): boolean {
  const r = requireNativeAddon<{ idleThisThread(): number }>('thread_sched'); // not built, or not Linux
  return 'binding' in r && r.binding.idleThisThread() === 0;
}

function renice(nice: number): boolean {
  const tid = currentThreadId();
  if (tid === undefined) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** Run the calling thread in the background: SCHED_IDLE, else a lower nice value; says which. */
export function backgroundThisThread(): BackgroundMode {
  if (schedIdle()) return 'sched-idle';
  return renice(BACKGROUND_NICE) ? 'nice' : 'unchanged';
}
