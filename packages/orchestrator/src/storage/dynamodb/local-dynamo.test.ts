import { type ClientRequest, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.close());

function call(target: string, onResponse: (status: number) => void = () => {}): ClientRequest {
  const req = request(`${dynamo.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${target}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      'x-amz-date': '20200101T000000Z',
    },
  });
  req.on('response', (res) => {
    res.resume();
    onResponse(res.statusCode ?? 0);
  });
  req.on('error', () => {});
  return req;
}

describe('startLocalDynamo', () => {
  it('keeps serving after a client gives up while its request waits in line', async () => {
    // The first request holds the line: its body is still coming.
    let firstStatus = 0;
    const first = call('TransactWriteItems', (s) => {
      firstStatus = s;
    });
    first.write('{"TransactItems":');
    await new Promise((r) => setTimeout(r, 50));
    // The second waits behind it, and its client disconnects (a replica killed mid-write).
    const second = call('ListTables');
    second.end('{}');
    await new Promise((r) => setTimeout(r, 50));
    second.destroy();
    await new Promise((r) => setTimeout(r, 50));
    first.end('not json');
    const third = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the request after the abandoned one never answered')), 3000);
      call('ListTables', (s) => {
        clearTimeout(timer);
        resolve(s);
      }).end('{}');
    });
    expect(firstStatus).toBe(400);
    expect(third).toBe(200);
  });
});
