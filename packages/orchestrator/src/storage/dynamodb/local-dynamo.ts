/// <reference path="./dynalite.d.ts" />
import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A dynalite server with TransactWriteItems, for tests, benchmarks and local development. */
export interface LocalDynamo {
  endpoint: string;
  port: number;
  /** Credentials dynalite accepts (it checks that they are present, not what they are). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TARGET_PREFIX = 'DynamoDB_20120810.';

/**
 * Starts dynalite in this process (loaded on demand: it is a development dependency) on
 * 127.0.0.1. dynalite 4 lacks TransactWriteItems, which the store's every write uses, so this adds
 * it in front of dynalite: requests are run one at a time, and a transaction applies its items with
 * dynalite's own conditional single-item operations, restoring the items it already changed when
 * one condition fails (answering `TransactionCanceledException` with per-item reasons, as AWS
 * does). Serialising every request makes the emulation atomic and isolated for all clients.
 */
export async function startLocalDynamo(opts: { port?: number } = {}): Promise<LocalDynamo> {
  const { default: dynalite } = await import('dynalite');
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const inner = server.listeners('request') as Handler[];
  server.removeAllListeners('request');
  const keySchemas = new Map<string, string[]>();
  let port = 0;
  let tail: Promise<void> = Promise.resolve();

  const call = (target: string, body: Json): Promise<{ status: number; body: Json }> =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `${TARGET_PREFIX}${target}`,
            'x-amz-date': '20200101T000000Z',
            'x-local-transaction': '1',
            authorization:
              'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 500, body: text ? (JSON.parse(text) as Json) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const keyOf = async (table: string, item: Json): Promise<Json> => {
    let names = keySchemas.get(table);
    if (!names) {
      const out = await call('DescribeTable', { TableName: table });
      const schema = ((out.body['Table'] as Json | undefined)?.['KeySchema'] ?? []) as { AttributeName: string }[];
      names = schema.map((k) => k.AttributeName);
      keySchemas.set(table, names);
    }
    const key: Json = {};
    for (const n of names) key[n] = item[n];
    return key;
  };

  const transactWrite = async (body: Json): Promise<{ status: number; body: Json }> => {
    const items = (body['TransactItems'] ?? []) as Json[];
    const plans: { table: string; key: Json; op: string; input: Json; restoreAlways: boolean }[] = [];
    for (const entry of items) {
      const [kind, spec] = Object.entries(entry)[0] as [string, Json];
      const table = String(spec['TableName']);
      const common: Json = { TableName: table };
      for (const f of ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'])
        if (spec[f] !== undefined) common[f] = spec[f];
      if (kind === 'Put') {
        plans.push({
          table,
          key: await keyOf(table, spec['Item'] as Json),
          op: 'PutItem',
          input: { ...common, Item: spec['Item'] },
          restoreAlways: false,
        });
      } else if (kind === 'Delete') {
        plans.push({
          table,
          key: spec['Key'] as Json,
          op: 'DeleteItem',
          input: { ...common, Key: spec['Key'] },
          restoreAlways: false,
        });
      } else if (kind === 'Update') {
        plans.push({
          table,
          key: spec['Key'] as Json,
          op: 'UpdateItem',
          input: { ...common, Key: spec['Key'], UpdateExpression: spec['UpdateExpression'] },
          restoreAlways: false,
        });
      } else if (kind === 'ConditionCheck') {
        // A conditional no-op write evaluates the condition; the item is restored afterwards.
        plans.push({
          table,
          key: spec['Key'] as Json,
          op: 'UpdateItem',
          input: {
            ...common,
            Key: spec['Key'],
            UpdateExpression: 'SET #localTxProbe = :localTxProbe',
            ExpressionAttributeNames: {
              ...((spec['ExpressionAttributeNames'] as Json) ?? {}),
              '#localTxProbe': 'localTxProbe',
            },
            ExpressionAttributeValues: {
              ...((spec['ExpressionAttributeValues'] as Json) ?? {}),
              ':localTxProbe': { BOOL: true },
            },
          },
          restoreAlways: true,
        });
      } else {
        return {
          status: 400,
          body: { __type: 'com.amazon.coral.validate#ValidationException', message: `unknown ${kind}` },
        };
      }
    }
    const seen = new Set<string>();
    for (const p of plans) {
      const id = `${p.table}|${JSON.stringify(p.key)}`;
      if (seen.has(id))
        return {
          status: 400,
          body: {
            __type: 'com.amazon.coral.validate#ValidationException',
            message: 'Transaction request cannot include multiple operations on one item',
          },
        };
      seen.add(id);
    }
    const before: (Json | null)[] = [];
    for (const p of plans) {
      const out = await call('GetItem', { TableName: p.table, Key: p.key, ConsistentRead: true });
      if (out.status !== 200) return out;
      before.push((out.body['Item'] as Json | undefined) ?? null);
    }
    const restore = async (i: number) => {
      const p = plans[i]!;
      const old = before[i];
      if (old) await call('PutItem', { TableName: p.table, Item: old });
      else await call('DeleteItem', { TableName: p.table, Key: p.key });
    };
    for (let i = 0; i < plans.length; i++) {
      const out = await call(plans[i]!.op, plans[i]!.input);
      if (out.status === 200 && !plans[i]!.restoreAlways) continue;
      if (out.status === 200) {
        await restore(i);
        continue;
      }
      for (let j = i - 1; j >= 0; j--) if (!plans[j]!.restoreAlways) await restore(j);
      const type = String(out.body['__type'] ?? '');
      if (!type.endsWith('ConditionalCheckFailedException')) return out;
      const reasons = plans.map((_, j) =>
        j === i ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' } : { Code: 'None' },
      );
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          CancellationReasons: reasons,
        },
      };
    }
    return { status: 200, body: {} };
  };

  const send = (res: ServerResponse, out: { status: number; body: Json }) => {
    const text = JSON.stringify(out.body);
    res.statusCode = out.status;
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-local-transaction'] === '1') {
      for (const h of inner) h(req, res);
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const turn = tail.then(
      () =>
        new Promise<void>((done) => {
          // A client that went away while its request waited in line has already closed `res`:
          // its 'close' event is gone, and waiting for it would stall every later request.
          if (res.destroyed || req.socket.destroyed) {
            done();
            return;
          }
          res.once('close', () => done());
          if (target === `${TARGET_PREFIX}TransactWriteItems`) {
            const chunks: Buffer[] = [];
            req.on('data', (c: Buffer) => chunks.push(c));
            req.on('end', () => {
              let body: Json;
              try {
                body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
              } catch {
                send(res, { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } });
                return;
              }
              transactWrite(body).then(
                (out) => send(res, out),
                (err: unknown) =>
                  send(res, {
                    status: 500,
                    body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err) },
                  }),
              );
            });
          } else {
            for (const h of inner) h(req, res);
          }
        }),
    );
    tail = turn;
  });

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    region: 'us-east-1',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
