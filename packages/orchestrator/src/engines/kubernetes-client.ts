import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { create, NestorError } from '@nestor/sdk';

const COMPONENT = 'engine-discovery';

/** How to reach the Kubernetes API. */
export interface KubernetesConnection {
  /** e.g. `https://10.0.0.1:443`. */
  apiUrl: string;
  /** Service-account bearer token. */
  token: string | null;
  /** PEM of the API server's CA. */
  ca: string | null;
}

export interface KubernetesClientOptions extends KubernetesConnection {
  /** Bound on one request. */
  timeoutMs?: number;
  /** Cap on one response body. */
  maxBytes?: number;
}

/** The fields of a Service that discovery reads; everything else the API sends is ignored. */
export interface Service {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { ports?: { name?: string; port?: number }[] };
}
interface ServiceList {
  items?: Service[];
  metadata?: { continue?: string };
}

/** What discovery needs of the Kubernetes API: one paged list of Services by label. */
export interface KubernetesApi {
  /** Services carrying `labelSelector`, in `namespace` or (null) every namespace the account may read. */
  listServices(namespace: string | null, labelSelector: string): Promise<Service[]>;
}

/**
 * The Kubernetes API client of engine discovery (docs/decisions.md 20: kept instead of
 * `@kubernetes/client-node`): `GET /api/v1/[namespaces/<ns>/]services` with a bearer token and the
 * cluster CA, paged by `continue` (at most 100 pages of 500), each answer bounded in time and size.
 */
export class KubernetesClient implements KubernetesApi {
  private readonly base: string;
  constructor(private readonly opts: KubernetesClientOptions) {
    this.base = opts.apiUrl.replace(/\/+$/, '');
  }

  async listServices(namespace: string | null, labelSelector: string): Promise<Service[]> {
    const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/services` : '/api/v1/services';
    const services: Service[] = [];
    let cont: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ labelSelector, limit: '500' });
      if (cont) query.set('continue', cont);
      const list = (await this.get(`${this.base}${path}?${query}`)) as ServiceList;
      if (!list || typeof list !== 'object' || (list.items !== undefined && !Array.isArray(list.items))) {
        throw unavailable('ListServices', 'the Kubernetes API answered something that is not a ServiceList');
      }
      services.push(...(list.items ?? []));
      cont = list.metadata?.continue || undefined;
      if (!cont) break;
    }
    return services;
  }

  /** One GET with the bearer token, the cluster CA, a timeout and a body cap. */
  private get(url: string): Promise<unknown> {
    const timeoutMs = this.opts.timeoutMs ?? 5_000;
    const maxBytes = this.opts.maxBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      const req = request(
        target,
        {
          method: 'GET',
          headers,
          signal: AbortSignal.timeout(timeoutMs),
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(unavailable('ListServices', `the Kubernetes API answer exceeds ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => reject(err));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(unavailable('ListServices', `the Kubernetes API answered HTTP ${status}: ${text.slice(0, 200)}`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(unavailable('ListServices', 'the Kubernetes API answered invalid JSON'));
            }
          });
        },
      );
      req.on('error', (err) => {
        if (NestorError.is(err)) reject(err);
        else if (err.name === 'TimeoutError' || err.name === 'AbortError') {
          reject(
            create('timeout')
              .component(COMPONENT)
              .operation('ListServices')
              .message(`the Kubernetes API did not answer within ${timeoutMs} ms`)
              .build(),
          );
        } else reject(unavailable('ListServices', `cannot reach the Kubernetes API: ${err.message}`, err));
      });
      req.end();
    });
  }
}

function unavailable(operation: string, message: string, cause?: unknown): NestorError {
  const b = create('service_unavailable').component(COMPONENT).operation(operation).message(message);
  if (cause !== undefined) b.cause(cause);
  return b.build();
}
