import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.js';
import { create, errors, NestorError, storageFailure, validationFailed } from './errors.js';
import { fromProblem, toProblem } from './http.js';

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes and statuses of the code table', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    const table = Object.entries(ERROR_CODES).map(([code, meta]) => [code, meta.status]);
    expect(rows).toEqual(table);
  });

  it('codes are snake_case and statuses are 4xx or 5xx', () => {
    for (const [code, meta] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(meta.status).toBeGreaterThanOrEqual(400);
      expect(meta.status).toBeLessThan(600);
    }
  });
});

describe('the builder', () => {
  it('builds a NestorError carrying every part', () => {
    const err = create('component_not_found')
      .component('catalog')
      .operation('GetComponent')
      .message('component not found')
      .detail('component_name', 'aws-vpc')
      .detail('version', '1.0.0')
      .build();
    expect(err).toBeInstanceOf(Error);
    expect(NestorError.is(err)).toBe(true);
    expect(err.code).toBe('component_not_found');
    expect(err.status).toBe(404);
    expect(err.component).toBe('catalog');
    expect(err.operation).toBe('GetComponent');
    expect(err.details).toEqual({ component_name: 'aws-vpc', version: '1.0.0' });
  });

  it('is reachable as the errors namespace, as the guide spells it', () => {
    const err = errors.create('storage_failure').component('sqlite').operation('GetComponent').build();
    expect(errors.is(err)).toBe(true);
    expect(err.status).toBe(503);
  });

  it('recognises errors from another copy of the SDK by brand, not by class', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('nestor.error')]: true, code: 'forbidden' });
    expect(NestorError.is(foreign)).toBe(true);
    expect(NestorError.is(new Error('plain'))).toBe(false);
  });
});

describe('problem bodies', () => {
  it('round-trip through toProblem and fromProblem with the same code and details', () => {
    const err = validationFailed('catalog', 'CreateComponent', {
      name: 'a',
      version: '1.0.0',
      errors: [
        { rule: 'interface', code: 'unknown_input_type', field: 'required_inputs[0].type', message: 'bad type' },
      ],
      warnings: [],
      required_bump: 'none',
      changes: [],
    });
    const problem = toProblem(err, 'req-1');
    expect(problem).toMatchObject({
      status: 422,
      code: 'validation_failed',
      request_id: 'req-1',
      required_bump: 'none',
    });
    const back = fromProblem(problem.status, JSON.parse(JSON.stringify(problem)));
    expect(back.code).toBe('validation_failed');
    expect(back.errors).toEqual(err.errors);
    expect(back.details.request_id).toBe('req-1');
  });

  it('never exposes the cause of a storage failure or the message of an unknown error', () => {
    const hidden = toProblem(new TypeError('secret path /etc/shadow'));
    expect(hidden.code).toBe('internal_error');
    expect(JSON.stringify(hidden)).not.toContain('shadow');
    const storage = toProblem(storageFailure('sqlite', 'GetComponent', new Error('disk I/O error')));
    expect(storage.status).toBe(503);
    expect(JSON.stringify(storage)).not.toContain('stack');
  });

  it('maps unknown codes from a server back to a code by status', () => {
    expect(fromProblem(404, { code: 'something_new' }).code).toBe('route_not_found');
    expect(fromProblem(502, 'not json').code).toBe('internal_error');
  });
});
