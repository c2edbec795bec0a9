/**
 * Worker thread for range verification (a separate esbuild entry,
 * dist/verify/worker.js). It receives the trust root and policy once, then
 * batches of {seq, payload, signature}, and answers each batch with the
 * pipeline's verdicts. Pure CPU: no I/O besides the message port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyJob, reviveBuffers, type VerifyJob, type JobResult, type WorkerSetup } from './batch.js';

const port = parentPort;
if (!port) throw new Error('gitseal: verify/worker.js must run as a worker thread');

const setup = reviveBuffers(workerData as WorkerSetup);

port.on('message', (jobs: VerifyJob[]) => {
  void (async () => {
    const out: JobResult[] = [];
    for (const j of jobs) out.push(await verifyJob(reviveBuffers(j), setup));
    port.postMessage(out);
  })();
});
