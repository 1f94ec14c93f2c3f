import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { RetryTimer, WebhookRequest, WebhookResponse, WebhookSender } from './interfaces.js';

/**
 * Sends a delivery with Node's HTTP client: no redirect is followed (a 3xx is the answer), no
 * connection is reused, the host is connected at the checked address (the lookup is pinned, so
 * TLS still checks the certificate against the URL's host name), at most `maxResponseBytes` of the
 * answer are read before the connection is dropped, and `timeoutMs` bounds everything.
 */
export const httpSender: WebhookSender = (request: WebhookRequest) =>
  new Promise<WebhookResponse>((resolve) => {
    const url = new URL(request.url);
    const pinned: LookupFunction = (_hostname, options, callback) => {
      const { address, family } = request.address;
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, [
          { address, family },
        ]);
      } else callback(null, address, family);
    };
    let status: number | null = null;
    let settled = false;
    const finish = (error: WebhookResponse['error']) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve({ status, error: status === null ? error : null });
    };
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        lookup: pinned,
        agent: false,
      },
      (res) => {
        status = res.statusCode ?? null;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= request.maxResponseBytes) finish(null);
        });
        res.on('end', () => finish(null));
        res.on('error', () => finish('connection'));
        res.on('close', () => finish('connection'));
      },
    );
    const deadline = setTimeout(() => finish('timeout'), request.timeoutMs);
    req.on('error', () => finish('connection'));
    req.end(request.body);
  });

/** Real waiting, cut short by the signal. */
export const realRetryTimer: RetryTimer = {
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};
