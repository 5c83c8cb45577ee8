// Runs work that sleeps on a ManualClock to its end: each time the work is asleep, time jumps to
// the next wake-up, so a 60 s poll takes as long as its requests and no assertion races the wall clock.
import type { ManualClock } from '../../runtime/clock.ts';

export async function driveClock<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await new Promise((r) => setTimeout(r, 1));
    if (clock.sleeping) clock.advanceToNext();
  }
  return work;
}
