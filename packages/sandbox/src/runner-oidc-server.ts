/**
 * Finding the OIDC provider's http.Server so faults and counters can be put
 * in front of it. `startOidcProvider` creates and owns its server without
 * handing it out, so the runner watches Node's `http.server.request.start`
 * diagnostics channel, which publishes the server object of each request just
 * before the server emits 'request' (lib/_http_server.js). The first request
 * on the provider's port swaps that server's listeners for the fault wrapper,
 * in time for the request being dispatched.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const CHANNEL = 'http.server.request.start';

/** Call `onServer` once with the server listening on `port`, at its first request; returns a cancel function. */
export function onFirstRequestTo(port: number, onServer: (server: Server) => void): () => void {
  let active = true;
  const listener = (message: unknown) => {
    const server = (message as { server?: Server }).server;
    const addr = server?.address() as AddressInfo | null | undefined;
    if (!active || !server || addr?.port !== port) return;
    cancel();
    onServer(server);
  };
  const cancel = () => {
    if (!active) return;
    active = false;
    unsubscribe(CHANNEL, listener);
  };
  subscribe(CHANNEL, listener);
  return cancel;
}
