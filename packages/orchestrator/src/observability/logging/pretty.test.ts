import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { prettyLogs } from '../../cmd/serve.js';
import { createLogger } from './logger.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('terminal-friendly logs', () => {
  it('writes readable lines with pretty, JSON lines without', async () => {
    const pretty = sink();
    createLogger({ level: 'info', pretty: true }, pretty.stream).info({ port: 8080, token: 's3cret' }, 'listening');
    const json = sink();
    createLogger({ level: 'info' }, json.stream).info({ port: 8080 }, 'listening');
    await new Promise((r) => setImmediate(r));
    expect(pretty.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening\n\s+port: 8080\n/);
    expect(pretty.text()).not.toContain('s3cret');
    expect(() => JSON.parse(pretty.text())).toThrow();
    expect(JSON.parse(json.text())).toMatchObject({ level: 30, msg: 'listening', port: 8080 });
  });

  it('is pretty on a terminal, or when configured, and JSON otherwise', () => {
    expect(prettyLogs(false, { isTTY: true })).toBe(true);
    expect(prettyLogs(false, { isTTY: false })).toBe(false);
    expect(prettyLogs(false, {})).toBe(false);
    expect(prettyLogs(true, { isTTY: false })).toBe(true);
  });
});
