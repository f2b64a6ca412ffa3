export interface SerialRunner<T> {
  /** runs the task now and then every `everyMs` (the timer does not hold the process open) */
  start(): void;
  /** runs the task once more, after any run under way: it reads a later clock */
  run(): Promise<T>;
  /** no more timed runs; resolves when the last one is over */
  stop(): Promise<void>;
}

/**
 * A periodic task that never overlaps itself (the day end, the nightly backup): a timed run
 * is skipped while another is queued or running, and a failed one goes to `onError`.
 */
export function serialRunner<T>(task: () => Promise<T>, everyMs: number, onError: (error: unknown) => void): SerialRunner<T> {
  let chain: Promise<unknown> = Promise.resolve();
  let pending = 0;
  const run = () => {
    pending++;
    const next = chain.then(task).finally(() => pending--);
    chain = next.catch(() => {});
    return next;
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      if (timer) return;
      timer = setInterval(() => pending === 0 && void run().catch(onError), everyMs);
      timer.unref();
      void run().catch(onError);
    },
    run,
    async stop() {
      clearInterval(timer);
      await chain;
    },
  };
}
