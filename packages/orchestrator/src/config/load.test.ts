import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

describe('NESTOR_* environment', () => {
  it('takes NESTOR_DATA_DIR as written, with the SQLite file inside it', () => {
    const config = loadConfig({}, { NESTOR_DATA_DIR: '/srv/nestor/data' });
    expect(config.data_dir).toBe('/srv/nestor/data');
    expect(config.store.path).toBe('/srv/nestor/data/nestor.db');
  });

  it('keeps a data folder that reads as a number or JSON a path', () => {
    expect(loadConfig({}, { NESTOR_DATA_DIR: '2026' }).data_dir).toBe('2026');
    expect(loadConfig({}, { NESTOR_DATA_DIR: '[data]' }).data_dir).toBe('[data]');
  });

  it('lets --data-dir win over NESTOR_DATA_DIR', () => {
    expect(loadConfig({ dataDir: './flag' }, { NESTOR_DATA_DIR: './env' }).data_dir).toBe('./flag');
  });

  it('refuses an empty NESTOR_DATA_DIR, naming it', () => {
    expect(() => loadConfig({}, { NESTOR_DATA_DIR: '' })).toThrow(/data_dir/);
  });

  it('still reads a list section as JSON', () => {
    const config = loadConfig({}, { NESTOR_SOURCES: '[{"name":"infra","type":"directory","path":"./infra"}]' });
    expect(config.sources.map((s) => s.name)).toEqual(['infra']);
  });
});
