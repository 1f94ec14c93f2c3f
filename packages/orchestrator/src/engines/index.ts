export * from './discovery.js';
export * from './health.js';
export * from './interfaces.js';
export * from './registry.js';
