import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { makeComponent, randomName } from '../../storage/testing.js';
import { makeSpec, stateContext } from '../testing.js';
import { conflictsRule } from './conflicts.js';

const run = async (store: MemoryStore, overrides: Parameters<typeof makeSpec>[0]) =>
  conflictsRule.check(await stateContext(makeSpec(overrides), store));
const codes = (o: { errors: { code: string; field: string }[] }) => o.errors.map((e) => [e.code, e.field]);

describe('conflicts rule', () => {
  it('accepts a new version of an existing name and an identical re-submission', async () => {
    const store = new MemoryStore();
    const first = makeComponent();
    await store.createComponent(first);
    const { digest: _d, ...same } = first;
    expect(codes(await conflictsRule.check(await stateContext(same, store)))).toEqual([]);
    expect(codes(await conflictsRule.check(await stateContext({ ...same, version: '1.1.0' }, store)))).toEqual([]);
  });

  it('rejects the same name and version with other content', async () => {
    const store = new MemoryStore();
    const first = makeComponent();
    await store.createComponent(first);
    const outcome = await run(store, { name: first.name, version: first.version, description: 'changed' });
    expect(codes(outcome)).toEqual([['version_conflict', 'version']]);
    expect(outcome.errors[0]!.details).toMatchObject({ existing_digest: first.digest });
  });

  it('rejects a provider or resource_type that differs from earlier versions', async () => {
    const store = new MemoryStore();
    const first = makeComponent();
    await store.createComponent(first);
    const outcome = await run(store, { name: first.name, version: '2.0.0', provider: 'gcp', resource_type: 'mysql' });
    expect(codes(outcome)).toEqual([
      ['provider_changed', 'provider'],
      ['resource_type_changed', 'resource_type'],
    ]);
  });

  it('rejects a new name confusable with an existing one, and notices names created later', async () => {
    const store = new MemoryStore();
    const base = randomName('my-db');
    await store.createComponent(makeComponent({ name: base }));
    const state = await stateContext(makeSpec({ name: base.replaceAll('-', '') }), store);
    const outcome = await conflictsRule.check(state);
    expect(codes(outcome)).toEqual([['similar_name', 'name']]);
    expect(outcome.errors[0]!.details).toEqual({ existing: [base] });

    const later = randomName('cache');
    expect(codes(await run(store, { name: `${later}x` }))).toEqual([]);
    await store.createComponent(makeComponent({ name: later }));
    expect(codes(await run(store, { name: later.replace('-', '') }))).toEqual([['similar_name', 'name']]);
  });
});
