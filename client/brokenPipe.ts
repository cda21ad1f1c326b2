/**
 * Output that may outlive its reader. `npm start | tee log` and Ctrl-C: the terminal's SIGINT reaches
 * tee too, tee exits, and the next line kubeha writes fails with EPIPE. Unhandled, that error kills the
 * process in the middle of its clean-up, leaving the lab's processes and /etc/hosts block behind.
 * Handled, the lines nobody can read are dropped and the clean-up runs to its end.
 */

/** Makes EPIPE on the process's stdout and stderr harmless. Returns how many writes were lost so far. */
export function surviveClosedOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): () => number {
  let lost = 0;
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        lost += 1;
        return;
      }
      // Any other output error is a real fault: let it surface as before.
      throw err;
    });
  }
  return () => lost;
}
